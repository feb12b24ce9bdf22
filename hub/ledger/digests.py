"""Disclosure rows as digest records: the exact bytes a DISCLOSURE_DIGEST event commits to.

Standard library only (the offline verifier recomputes these). A record is the JSON array
[id, at, requestId, buyer, factory, assessment, scope, consentLedgerSeq] with compact
separators and ASCII escapes, one per line; the digest is SHA-256 over the lines in id order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime

Record = list[object]


def utc_time(at: datetime) -> str:
    """A time as leaves and digest records write it: UTC, microseconds, "+00:00". (The SQL that
    builds consent leaves and digests renders it the same way; tests hold them equal.)"""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def record(
    row_id: int,
    at: datetime,
    request_id: str,
    buyer: object,
    factory: object,
    assessment: object,
    scope: str,
    consent_seq: int,
) -> Record:
    return [
        row_id,
        utc_time(at),
        request_id,
        str(buyer),
        str(factory),
        str(assessment),
        scope,
        consent_seq,
    ]


def encode(rec: Record) -> bytes:
    return json.dumps(rec, separators=(",", ":"), ensure_ascii=True).encode() + b"\n"


EMPTY = hashlib.sha256().hexdigest()


class Digest:
    """The digest built a chunk at a time (the integrator yields to requests between chunks)."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def update(self, records: Iterable[Record]) -> None:
        for rec in records:
            self._hash.update(encode(rec))

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def digest(records: Iterable[Record]) -> str:
    made = Digest()
    made.update(records)
    return made.hexdigest()
