"""All SQL of the consent ledger. The only code that writes `consent_log`.

Appends are serialised by a transaction-level advisory lock, in READ COMMITTED: each statement
then sees every append committed before the lock was granted, so indices are gap-free and never
repeat. (Under REPEATABLE READ the snapshot predates the lock and the log forks.)
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.ledger.events import NewEvent, leaf_bytes, leaf_hash, new_nonce
from hub.ledger.models import ConsentEventReason, ConsentLogEntry

# pg_advisory_xact_lock key: "CHLEDGER" as an int64, so no other lock user collides by accident
LEDGER_LOCK_KEY = 0x43484C4544474552
NOTIFY_CHANNEL = "consent_log"


# seq, event type, factory, buyer, scopes, expiry
Fact = Row[int, str, uuid.UUID | None, uuid.UUID | None, list[str], datetime | None]


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def append(self, event: NewEvent) -> ConsentLogEntry:
        """Append one event under the ledger lock; NOTIFY listeners when the transaction commits."""
        [entry] = await self.append_batch([event])
        return entry

    async def append_batch(self, events: Sequence[NewEvent]) -> list[ConsentLogEntry]:
        """Append events in order, under one hold of the ledger lock (bulk loads use this)."""
        await self.session.execute(select(func.pg_advisory_xact_lock(LEDGER_LOCK_KEY)))
        # the last entry by the primary key (an index probe, not a scan); time never goes back
        last = (
            await self.session.execute(
                text("SELECT seq, at FROM consent_log ORDER BY seq DESC LIMIT 1")
            )
        ).one_or_none()
        now = (await self.session.execute(select(func.clock_timestamp()))).scalar_one()
        first = 0 if last is None else int(last.seq) + 1
        at = now if last is None else max(now, last.at)
        entries = [self._entry(first + i, at, event) for i, event in enumerate(events)]
        self.session.add_all(entries)
        self.session.add_all(
            ConsentEventReason(seq=e.seq, reason=ev.reason)
            for e, ev in zip(entries, events, strict=True)
            if ev.reason
        )
        await self.session.flush()
        if entries:
            await self.session.execute(select(func.pg_notify(NOTIFY_CHANNEL, str(entries[-1].seq))))
        return entries

    @staticmethod
    def _entry(seq: int, at: datetime, event: NewEvent) -> ConsentLogEntry:
        event_id = uuid.uuid4()
        leaf = leaf_bytes(seq, event_id, at, event, new_nonce())
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

    async def events_after(self, seq: int, limit: int = 10_000) -> Sequence[ConsentLogEntry]:
        query = (
            select(ConsentLogEntry)
            .where(ConsentLogEntry.seq > seq)
            .order_by(ConsentLogEntry.seq)
            .limit(limit)
        )
        return (await self.session.execute(query)).scalars().all()

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

    async def now(self) -> datetime:
        return (await self.session.execute(select(func.now()))).scalar_one()
