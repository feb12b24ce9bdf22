"""`hub ledger verify`: check an export with nothing but the public key.

Standard library and `cryptography` only (with hub.ledger.merkle, .note and .digests, which
are the same). Trusts nothing in the file. Streams: memory grows with the number of consent
pairs and event ids, not with leaf bytes. Each broken rule is reported with the index:

    format            a line is not what the export format says
    checkpoint-signature  a checkpoint is not signed by the given key
    checkpoint-fork   two checkpoints of one size with different roots
    checkpoint-size   a checkpoint covers more events than the export holds
    checkpoint-root   the root recomputed from the events differs from a checkpoint's
    index-gap         indices do not run 0, 1, 2, … (deleted, inserted or reordered events)
    leaf-hash         a stored leaf hash is not the hash of its leaf
    event-id-unique   an event id occurs twice
    time-order        an event is older than the one before it (a backdated event)
    state-machine     an event that cannot follow the pair's previous one
    disclosure-grant  a disclosure cites no grant in force and in scope at its time
    digest-gap        digests do not cover the disclosure rows in order without gaps
    digest-mismatch   a digest differs from the hash of the rows it covers
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.ledger import digests, merkle
from hub.ledger.note import NoteError, Verifier, verify_checkpoint

LEAF_TYPE_LINE = b"compliance-hub/consent-event/v1\n"
ENDS_A_GRANT = {"GRANTED", "REVOKED", "EXPIRED"}


@dataclass
class Failure:
    rule: str
    index: int | None
    detail: str

    def __str__(self) -> str:
        where = f" at {self.index}" if self.index is not None else ""
        return f"FAIL {self.rule}{where}: {self.detail}"


@dataclass(slots=True)
class Grant:
    """One GRANTED event: in force from `start` until `end` (the time of the event that
    superseded, revoked or expired it) and its own expiry. Times are POSIX seconds."""

    key: str
    start: float
    scopes: frozenset[str]
    expires: float | None
    end: float = math.inf


@dataclass(slots=True)
class Pair:
    state: str = "NONE"
    consent: str | None = None
    grant: Grant | None = None


class CompactRange:
    """The Merkle root of a growing prefix in O(log n) memory (perfect subtrees, right edge)."""

    def __init__(self) -> None:
        self.size = 0
        self.stack: list[tuple[int, bytes]] = []  # (level, hash), levels strictly decreasing

    def append(self, digest: bytes) -> None:
        level, h = 0, digest
        while self.stack and self.stack[-1][0] == level:
            _, left = self.stack.pop()
            h = merkle.node_hash(left, h)
            level += 1
        self.stack.append((level, h))
        self.size += 1

    def root(self) -> bytes:
        if not self.stack:
            return merkle.EMPTY_ROOT
        h = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            h = merkle.node_hash(left, h)
        return h


@dataclass
class Report:
    failures: list[Failure] = field(default_factory=list)
    events: int = 0
    checkpoints: int = 0
    latest: tuple[int, str] | None = None
    disclosures: int = 0
    digested: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, rule: str, index: int | None, detail: str) -> None:
        if len(self.failures) < 1000:
            self.failures.append(Failure(rule, index, detail))

    def summary(self) -> str:
        if not self.ok:
            return "\n".join(str(f) for f in self.failures)
        size, root = self.latest or (0, merkle.EMPTY_ROOT.hex())
        pending = self.disclosures - self.digested
        return (
            f"OK: {self.events} events; {self.checkpoints} checkpoint"
            f"{'' if self.checkpoints == 1 else 's'}, the latest at size {size} "
            f"with root {root}; {self.disclosures} disclosures, {self.digested} of them under "
            f"digests ({pending} newer than the last digest)"
        )


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def verify(lines: Iterable[str], verifier: Verifier) -> Report:
    report = Report()
    checkpoints: dict[int, bytes] = {}
    compact = CompactRange()
    # memory grows with events and pairs, so keep them small: ids as ints, pairs keyed by one
    # string, one Grant object per GRANTED event
    seen_ids: set[int] = set()
    pairs: dict[str, Pair] = {}
    grants: dict[int, Grant] = {}
    digests_at: list[tuple[int, int, int, int, str]] = []  # seq, from, to, count, digest
    last_time: datetime | None = None
    rows_hash = hashlib.sha256()
    rows_in_digest = 0
    digest_cursor = 0
    last_row_id = 0

    for n, raw in enumerate(lines):
        try:
            obj = json.loads(raw)
            kind = obj["kind"]
        except (ValueError, KeyError, TypeError):
            report.fail("format", n, "not a JSON object with a kind")
            continue
        if kind == "header":
            continue
        if kind == "checkpoint":
            try:
                cp = verify_checkpoint(obj["note"], verifier)
            except (NoteError, KeyError) as exc:
                report.fail("checkpoint-signature", None, str(exc))
                continue
            if cp.size in checkpoints and checkpoints[cp.size] != cp.root:
                report.fail("checkpoint-fork", cp.size, "two checkpoints of this size differ")
                continue
            checkpoints[cp.size] = cp.root
            report.checkpoints += 1
            if report.latest is None or cp.size >= report.latest[0]:
                report.latest = (cp.size, cp.root.hex())
        elif kind == "event":
            last_time = _event(obj, report, compact, seen_ids, pairs, grants, digests_at, last_time)
            if compact.size in checkpoints and compact.root() != checkpoints[compact.size]:
                report.fail(
                    "checkpoint-root", compact.size - 1, "the events do not give the signed root"
                )
        elif kind == "disclosure":
            record = obj.get("record")
            if not isinstance(record, list) or len(record) != 8:
                report.fail("format", n, "a disclosure record has eight fields")
                continue
            report.disclosures += 1
            row_id = int(record[0])
            if row_id <= last_row_id:
                report.fail("format", n, "disclosure rows are not in id order")
            last_row_id = row_id
            _disclosure(record, report, grants)
            # digests, in ledger order, must cover the rows without gaps
            while digest_cursor < len(digests_at) and row_id > digests_at[digest_cursor][2]:
                _close_digest(digests_at[digest_cursor], rows_hash, rows_in_digest, report)
                rows_hash, rows_in_digest = hashlib.sha256(), 0
                digest_cursor += 1
            if digest_cursor < len(digests_at):
                seq, lo, hi, _, _ = digests_at[digest_cursor]
                if row_id <= lo:
                    report.fail(
                        "digest-gap", seq, f"row {row_id} falls before digest range ({lo}, {hi}]"
                    )
                rows_hash.update(digests.encode(record))
                rows_in_digest += 1
                report.digested += 1
        else:
            report.fail("format", n, f"unknown kind {kind!r}")

    if digest_cursor < len(digests_at):
        _close_digest(digests_at[digest_cursor], rows_hash, rows_in_digest, report)
        for pending in digests_at[digest_cursor + 1 :]:
            _close_digest(pending, hashlib.sha256(), 0, report)
    for size in checkpoints:
        if size > compact.size:
            report.fail(
                "checkpoint-size", size, f"signed for {size} events, the export has {compact.size}"
            )
    report.events = compact.size
    return report


def _close_digest(d: tuple[int, int, int, int, str], h: Any, count: int, report: Report) -> None:
    seq, lo, hi, expected_count, expected = d
    if count != expected_count:
        report.fail(
            "digest-gap",
            seq,
            f"digest of ({lo}, {hi}] counts {expected_count} rows, the export has {count}",
        )
    elif h.hexdigest() != expected:
        report.fail("digest-mismatch", seq, f"rows ({lo}, {hi}] do not hash to the digest")


def _event(
    obj: dict[str, Any],
    report: Report,
    compact: CompactRange,
    seen_ids: set[int],
    pairs: dict[str, Pair],
    grants: dict[int, Grant],
    digests_at: list[tuple[int, int, int, int, str]],
    last_time: datetime | None,
) -> datetime | None:
    index = compact.size
    try:
        leaf = base64.b64decode(obj["leaf"], validate=True)
        if not leaf.startswith(LEAF_TYPE_LINE):
            raise ValueError("no type line")
        event = json.loads(leaf[len(LEAF_TYPE_LINE) :])
        seq, event_id, at = int(event["seq"]), event["id"], _time(event["at"])
    except (ValueError, KeyError, TypeError) as exc:
        report.fail("format", index, f"unreadable event: {exc}")
        compact.append(merkle.leaf_hash(b""))
        return last_time
    digest = merkle.leaf_hash(leaf)
    compact.append(digest)
    if obj.get("leafHash") != digest.hex():
        report.fail("leaf-hash", index, "the stored leaf hash is not the hash of the leaf")
    if seq != index or obj.get("seq") != index:
        report.fail("index-gap", index, f"expected index {index}, the event says {seq}")
    try:
        key = int(str(event_id).replace("-", ""), 16)
    except ValueError:
        key = -1
    if key in seen_ids:
        report.fail("event-id-unique", index, f"event id {event_id} occurs twice")
    seen_ids.add(key)
    if at is None or (last_time is not None and at < last_time):
        report.fail("time-order", index, f"{event.get('at')} is before the previous event")
    else:
        last_time = at
    if event.get("type") == "DISCLOSURE_DIGEST":
        digests_at.append(
            (
                seq,
                int(event["fromId"]),
                int(event["toId"]),
                int(event["count"]),
                str(event["digest"]),
            )
        )
        if len(digests_at) > 1 and digests_at[-2][2] != digests_at[-1][1]:
            report.fail(
                "digest-gap", index, "this digest does not start where the previous one ended"
            )
        elif len(digests_at) == 1 and digests_at[0][1] != 0:
            report.fail("digest-gap", index, "the first digest does not start at the first row")
        return last_time
    _transition(event, index, report, pairs, grants)
    return last_time


_SCOPES: dict[frozenset[str], frozenset[str]] = {}


def _transition(
    event: dict[str, Any],
    index: int,
    report: Report,
    pairs: dict[str, Pair],
    grants: dict[int, Grant],
) -> None:
    kind = event.get("type")
    key = f"{event.get('factory')}/{event.get('buyer')}"
    pair = pairs.get(key)
    if pair is None:
        pair = pairs[key] = Pair()
    at = _time(event.get("at"))
    assert at is not None
    now = at.timestamp()
    if pair.consent is not None and event.get("consent") != pair.consent:
        report.fail("state-machine", index, "a second consent id for one factory and buyer")
    pair.consent = event.get("consent")
    grant = pair.grant
    expired = grant is not None and grant.expires is not None and grant.expires <= now
    allowed = {
        "REQUESTED": pair.state != "GRANTED" or expired,
        "GRANTED": pair.state != "DECLINED",
        "DECLINED": pair.state == "REQUESTED",
        "REVOKED": pair.state == "GRANTED",
        "EXPIRED": pair.state == "GRANTED" and expired,
    }
    if kind not in allowed:
        report.fail("state-machine", index, f"unknown event type {kind!r}")
        return
    if not allowed[kind]:
        report.fail("state-machine", index, f"{kind} cannot follow {pair.state}")
    pair.state = str(kind)
    if kind in ENDS_A_GRANT and grant is not None:
        grant.end = min(grant.end, now)
        pair.grant = None
    if kind == "GRANTED":
        scopes = frozenset(event.get("scopes") or ())
        expires = _time(event.get("expiresAt"))
        made = Grant(
            key, now, _SCOPES.setdefault(scopes, scopes), expires.timestamp() if expires else None
        )
        grants[index] = pair.grant = made


def _disclosure(record: list[Any], report: Report, grants: dict[int, Grant]) -> None:
    row_id, at_text, _, buyer, factory, _, scope, cited = record
    at = _time(at_text)
    grant = grants.get(int(cited))
    if grant is None or grant.key != f"{factory}/{buyer}" or at is None:
        report.fail(
            "disclosure-grant",
            row_id,
            f"cites ledger index {cited}, which is no grant to this buyer",
        )
        return
    now = at.timestamp()
    if now < grant.start or grant.end <= now:
        report.fail(
            "disclosure-grant", row_id, f"the grant at {cited} was not in force at {at_text}"
        )
    elif scope not in grant.scopes or (grant.expires is not None and grant.expires <= now):
        report.fail(
            "disclosure-grant", row_id, f"{scope} was not granted, or had expired, at {at_text}"
        )


RECEIPT_HEADER = "compliance-hub consent receipt v1"


def verify_receipt(text: str, verifier: Verifier) -> tuple[int, dict[str, Any], int]:
    """(index, event, tree size) of a receipt whose proof leads to a signed checkpoint; raises
    ValueError naming what does not hold."""
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise ValueError("a receipt is its lines, a blank line and a checkpoint")
    lines = head.split("\n")
    if lines[0] != RECEIPT_HEADER:
        raise ValueError("not a consent receipt")
    fields: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, _, value = line.partition(" ")
        fields.setdefault(name, []).append(value)
    try:
        seq = int(fields["seq"][0])
        size = int(fields["tree-size"][0])
        leaf = base64.b64decode(fields["leaf"][0], validate=True)
        path = [base64.b64decode(p, validate=True) for p in fields.get("proof", [])]
    except (KeyError, ValueError) as exc:
        raise ValueError(f"malformed receipt: {exc}") from None
    checkpoint = verify_checkpoint(note, verifier)
    if checkpoint.size != size:
        raise ValueError("the receipt's tree size is not its checkpoint's")
    if not merkle.verify_inclusion(seq, size, merkle.leaf_hash(leaf), path, checkpoint.root):
        raise ValueError("the inclusion proof does not lead to the signed root")
    if not leaf.startswith(LEAF_TYPE_LINE):
        raise ValueError("the leaf is not a consent event")
    event: dict[str, Any] = json.loads(leaf[len(LEAF_TYPE_LINE) :])
    if event.get("seq") != seq:
        raise ValueError("the event's index is not the receipt's")
    return seq, event, size
