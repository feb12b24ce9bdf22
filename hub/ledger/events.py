"""Consent events and their canonical leaf bytes (what the Merkle tree hashes).

A leaf is a type line and the RFC 8785 canonical JSON of the event: pseudonymous ids, scopes,
times and a random nonce (so a leaf cannot be confirmed by guessing its content), never names
or free text. Reasons given by people live in an erasable table beside the log.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

import rfc8785

from hub.ledger.digests import utc_time

LEAF_TYPE_LINE = b"compliance-hub/consent-event/v1\n"


class EventType(Enum):
    REQUESTED = "REQUESTED"
    GRANTED = "GRANTED"
    DECLINED = "DECLINED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True)
class NewEvent:
    type: EventType
    consent_id: uuid.UUID
    factory_id: uuid.UUID
    buyer_id: uuid.UUID
    actor_id: uuid.UUID
    scopes: tuple[str, ...] = ()
    expires_at: datetime | None = None
    reason: str | None = None  # kept off the leaf


@dataclass(frozen=True)
class NewDigest:
    """Commits the disclosure rows with from_id < id <= to_id (see hub.ledger.digests)."""

    from_id: int
    to_id: int
    count: int
    digest: str


DIGEST_TYPE = "DISCLOSURE_DIGEST"


def _ts(value: datetime | None) -> str | None:
    # in UTC, so that a leaf follows from the stored instant alone
    return utc_time(value) if value else None


def leaf_bytes(
    seq: int, event_id: uuid.UUID, at: datetime, event: NewEvent | NewDigest, nonce: str
) -> bytes:
    document: dict[str, Any]
    if isinstance(event, NewDigest):
        document = {
            "seq": seq,
            "id": str(event_id),
            "at": _ts(at),
            "type": DIGEST_TYPE,
            "fromId": event.from_id,
            "toId": event.to_id,
            "count": event.count,
            "digest": event.digest,
            "nonce": nonce,
        }
        return LEAF_TYPE_LINE + rfc8785.dumps(document)
    document = {
        "seq": seq,
        "id": str(event_id),
        "at": _ts(at),
        "type": event.type.value,
        "consent": str(event.consent_id),
        "factory": str(event.factory_id),
        "buyer": str(event.buyer_id),
        "actor": str(event.actor_id),
        "scopes": sorted(event.scopes),
        "expiresAt": _ts(event.expires_at),
        "nonce": nonce,
    }
    return LEAF_TYPE_LINE + rfc8785.dumps(document)


def leaf_hash(leaf: bytes) -> bytes:
    """RFC 9162 §2.1.1: SHA-256(0x00 || leaf)."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def new_nonce() -> str:
    return secrets.token_hex(16)
