"""All SQL of the consent ledger. The only code that writes `consent_log`.

Appends are serialised by a transaction-level advisory lock, in READ COMMITTED: each statement
then sees every append committed before the lock was granted, so indices are gap-free and never
repeat. (Under REPEATABLE READ the snapshot predates the lock and the log forks.)
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime

from sqlalchemy import Row, func, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.consent.models import Consent
from hub.ledger.events import (
    DIGEST_TYPE,
    LEAF_TYPE_LINE,
    NewDigest,
    NewEvent,
    leaf_bytes,
    leaf_hash,
    new_nonce,
)
from hub.ledger.models import Checkpoint, ConsentEventReason, ConsentLogEntry, TreeNode

# pg_advisory_xact_lock key: "CHLEDGER" as an int64, so no other lock user collides by accident
LEDGER_LOCK_KEY = 0x43484C4544474552
NOTIFY_CHANNEL = "consent_log"
# one checkpoint integrator at a time, across processes
INTEGRATOR_LOCK_KEY = 0x43484C4543484B50

# built once: appends hold the ledger lock while these run, so each round trip saved is
# throughput for every writer
_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
_LAST_AND_NOTIFY = text(
    "SELECT last.seq, last.at, clock_timestamp(),"
    " pg_notify(:channel, (coalesce(last.seq, -1) + :count)::text)"
    " FROM (SELECT 1) AS one"
    " LEFT JOIN LATERAL (SELECT seq, at FROM consent_log ORDER BY seq DESC LIMIT 1) AS last"
    " ON true"
)


_APPEND_CONSENT = text(
    "SELECT * FROM consent_log_append(:lock, :channel, :type_line, :type, :event, :nonce,"
    " :consent, :factory, :buyer, :actor, :scopes, :expires, :reason)"
)


# seq, event type, factory, buyer, scopes, expiry
Fact = Row[int, str, uuid.UUID | None, uuid.UUID | None, list[str], datetime | None]


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def append_consent(self, event: NewEvent) -> Consent:
        """Append one consent event and bring its consent row to the state after it, in one
        statement (the database function consent_log_append: the ledger lock is then held for
        this round trip and the COMMIT only); NOTIFY listeners when the transaction commits.
        Returns the consent row, refreshed in the session."""
        params = {
            "lock": LEDGER_LOCK_KEY,
            "channel": NOTIFY_CHANNEL,
            "type_line": LEAF_TYPE_LINE,
            "type": event.type.value,
            "event": uuid.uuid4(),
            "nonce": new_nonce(),
            "consent": event.consent_id,
            "factory": event.factory_id,
            "buyer": event.buyer_id,
            "actor": event.actor_id,
            "scopes": sorted(event.scopes),
            "expires": event.expires_at,
            "reason": event.reason,
        }
        query = select(Consent).from_statement(_APPEND_CONSENT)
        found = await self.session.execute(
            query, params, execution_options={"populate_existing": True}
        )
        consent: Consent = found.scalar_one()
        return consent

    async def append_batch(self, events: Sequence[NewEvent | NewDigest]) -> list[ConsentLogEntry]:
        """Append events in order, under one hold of the ledger lock (bulk loads use this)."""
        await self.session.execute(_LOCK, {"key": LEDGER_LOCK_KEY})
        # once the lock is held: the last entry (an index probe), the clock, and the NOTIFY of
        # the new head, which PostgreSQL delivers only if and when this transaction commits
        last_seq, last_at, now, _ = (
            await self.session.execute(
                _LAST_AND_NOTIFY, {"channel": NOTIFY_CHANNEL, "count": len(events)}
            )
        ).one()
        first = 0 if last_seq is None else int(last_seq) + 1
        at = now if last_at is None else max(now, last_at)  # time never goes back
        entries = [self._entry(first + i, at, event) for i, event in enumerate(events)]
        self.session.add_all(entries)
        self.session.add_all(
            ConsentEventReason(seq=e.seq, reason=ev.reason)
            for e, ev in zip(entries, events, strict=True)
            if isinstance(ev, NewEvent) and ev.reason
        )
        await self.session.flush()
        return entries

    @staticmethod
    def _entry(seq: int, at: datetime, event: NewEvent | NewDigest) -> ConsentLogEntry:
        event_id = uuid.uuid4()
        leaf = leaf_bytes(seq, event_id, at, event, new_nonce())
        if isinstance(event, NewDigest):
            return ConsentLogEntry(
                seq=seq,
                event_id=event_id,
                event_type=DIGEST_TYPE,
                at=at,
                scopes=[],
                leaf=leaf,
                leaf_hash=leaf_hash(leaf),
            )
        return ConsentLogEntry(
            seq=seq,
            event_id=event_id,
            event_type=event.type.value,
            at=at,
            consent_id=event.consent_id,
            factory_id=event.factory_id,
            buyer_org_id=event.buyer_id,
            actor_id=event.actor_id,
            scopes=sorted(event.scopes),
            expires_at=event.expires_at,
            leaf=leaf,
            leaf_hash=leaf_hash(leaf),
        )

    async def head(self) -> int:
        """The highest index in the log, -1 when empty (one index lookup)."""
        query = select(ConsentLogEntry.seq).order_by(ConsentLogEntry.seq.desc()).limit(1)
        found = (await self.session.execute(query)).scalar_one_or_none()
        return -1 if found is None else int(found)

    async def facts_after(self, seq: int, limit: int = 20_000) -> Sequence[Fact]:
        """What the consent projection needs of each newer entry, without the leaf bytes."""
        query = (
            select(
                ConsentLogEntry.seq,
                ConsentLogEntry.event_type,
                ConsentLogEntry.factory_id,
                ConsentLogEntry.buyer_org_id,
                ConsentLogEntry.scopes,
                ConsentLogEntry.expires_at,
            )
            .where(ConsentLogEntry.seq > seq)
            .order_by(ConsentLogEntry.seq)
            .limit(limit)
        )
        return (await self.session.execute(query)).all()

    async def at(self, seq: int) -> ConsentLogEntry | None:
        return await self.session.get(ConsentLogEntry, seq)

    async def leaf_hashes(self, lo: int, hi: int) -> list[bytes]:
        query = (
            select(ConsentLogEntry.leaf_hash)
            .where(ConsentLogEntry.seq >= lo, ConsentLogEntry.seq < hi)
            .order_by(ConsentLogEntry.seq)
        )
        return list((await self.session.execute(query)).scalars())

    async def tree_nodes(self, nodes: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """Hashes of perfect subtrees; level 0 comes from the log's leaf hashes."""
        wanted = set(nodes)
        found: dict[tuple[int, int], bytes] = {}
        leaves = sorted(i for level, i in wanted if level == 0)
        if leaves:
            query = select(ConsentLogEntry.seq, ConsentLogEntry.leaf_hash).where(
                ConsentLogEntry.seq.in_(leaves)
            )
            found.update({(0, seq): h for seq, h in await self.session.execute(query)})
        inner = [(level, i) for level, i in wanted if level > 0]
        if inner:
            nodes_query = select(TreeNode.level, TreeNode.idx, TreeNode.hash).where(
                tuple_(TreeNode.level, TreeNode.idx).in_(inner)
            )
            found.update({(lv, i): h for lv, i, h in await self.session.execute(nodes_query)})
        return found

    async def tree_width(self, level: int) -> int:
        """How many nodes of this level are stored (they are stored left to right)."""
        query = select(func.max(TreeNode.idx)).where(TreeNode.level == level)
        top = (await self.session.execute(query)).scalar_one_or_none()
        return 0 if top is None else int(top) + 1

    async def tree_level(self, level: int, lo: int, hi: int) -> list[bytes]:
        query = (
            select(TreeNode.hash)
            .where(TreeNode.level == level, TreeNode.idx >= lo, TreeNode.idx < hi)
            .order_by(TreeNode.idx)
        )
        return list((await self.session.execute(query)).scalars())

    async def add_tree_nodes(self, level: int, first: int, hashes: Sequence[bytes]) -> None:
        for start in range(0, len(hashes), 5_000):
            chunk = hashes[start : start + 5_000]
            rows = [
                {"level": level, "idx": first + start + i, "hash": h} for i, h in enumerate(chunk)
            ]
            await self.session.execute(insert(TreeNode).values(rows).on_conflict_do_nothing())

    # --- checkpoints --------------------------------------------------------------------------

    async def latest_checkpoint(self) -> Checkpoint | None:
        query = select(Checkpoint).order_by(Checkpoint.tree_size.desc()).limit(1)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def recent_checkpoints(self, count: int) -> Sequence[Checkpoint]:
        query = select(Checkpoint).order_by(Checkpoint.tree_size.desc()).limit(count)
        return (await self.session.execute(query)).scalars().all()

    async def checkpoints(self) -> Sequence[Checkpoint]:
        query = select(Checkpoint).order_by(Checkpoint.tree_size)
        return (await self.session.execute(query)).scalars().all()

    async def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        await self.session.execute(
            insert(Checkpoint)
            .values(
                tree_size=checkpoint.tree_size,
                root_hash=checkpoint.root_hash,
                issued_at=checkpoint.issued_at,
                key_id=checkpoint.key_id,
                signature=checkpoint.signature,
                note=checkpoint.note,
            )
            .on_conflict_do_nothing()
        )

    async def try_integrator_lock(self) -> bool:
        query = select(func.pg_try_advisory_xact_lock(INTEGRATOR_LOCK_KEY))
        return bool((await self.session.execute(query)).scalar_one())

    # --- reading the log ----------------------------------------------------------------------

    async def page(
        self,
        *,
        after: int,
        first: int,
        factory_id: uuid.UUID | None,
        buyer_id: uuid.UUID | None,
        consent_events_only: bool = True,
    ) -> Sequence[tuple[ConsentLogEntry, str | None]]:
        query = (
            select(ConsentLogEntry, ConsentEventReason.reason)
            .outerjoin(ConsentEventReason, ConsentEventReason.seq == ConsentLogEntry.seq)
            .where(ConsentLogEntry.seq >= after)
            .order_by(ConsentLogEntry.seq)
            .limit(first)
        )
        if consent_events_only:
            query = query.where(ConsentLogEntry.event_type != DIGEST_TYPE)
        if factory_id is not None:
            query = query.where(ConsentLogEntry.factory_id == factory_id)
        if buyer_id is not None:
            query = query.where(ConsentLogEntry.buyer_org_id == buyer_id)
        return [(row[0], row[1]) for row in await self.session.execute(query)]

    async def stream(self, chunk: int = 5_000) -> AsyncIterator[Sequence[ConsentLogEntry]]:
        after = -1
        while True:
            query = (
                select(ConsentLogEntry)
                .where(ConsentLogEntry.seq > after)
                .order_by(ConsentLogEntry.seq)
                .limit(chunk)
            )
            rows = (await self.session.execute(query)).scalars().all()
            if not rows:
                return
            yield rows
            after = rows[-1].seq
            self.session.expunge_all()

    async def last_digest_leaf(self) -> bytes | None:
        query = (
            select(ConsentLogEntry.leaf)
            .where(ConsentLogEntry.event_type == DIGEST_TYPE)
            .order_by(ConsentLogEntry.seq.desc())
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()
