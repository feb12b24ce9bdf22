"""All SQL of the consent ledger. The only code that writes `consent_log`.

Appends are serialised by a transaction-level advisory lock, in READ COMMITTED: each statement
then sees every append committed before the lock was granted, so indices are gap-free and never
repeat. (Under REPEATABLE READ the snapshot predates the lock and the log forks.)
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.ledger.events import NewEvent, leaf_bytes, leaf_hash, new_nonce
from hub.ledger.models import ConsentEventReason, ConsentLogEntry

# pg_advisory_xact_lock key: "CHLEDGER" as an int64, so no other lock user collides by accident
LEDGER_LOCK_KEY = 0x43484C4544474552
NOTIFY_CHANNEL = "consent_log"


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def append(self, event: NewEvent) -> ConsentLogEntry:
        """Append one event under the ledger lock; NOTIFY listeners when the transaction commits."""
        await self.session.execute(select(func.pg_advisory_xact_lock(LEDGER_LOCK_KEY)))
        row = (
            await self.session.execute(
                text(
                    "SELECT coalesce(max(seq) + 1, 0) AS next, "
                    "greatest(clock_timestamp(), max(at)) AS at FROM consent_log"
                )
            )
        ).one()
        seq, at = int(row.next), row.at
        event_id = uuid.uuid4()
        leaf = leaf_bytes(seq, event_id, at, event, new_nonce())
        entry = ConsentLogEntry(
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
        self.session.add(entry)
        if event.reason:
            self.session.add(ConsentEventReason(seq=seq, reason=event.reason))
        await self.session.flush()
        await self.session.execute(select(func.pg_notify(NOTIFY_CHANNEL, str(seq))))
        return entry

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

    async def at(self, seq: int) -> ConsentLogEntry | None:
        return await self.session.get(ConsentLogEntry, seq)

    async def now(self) -> datetime:
        return (await self.session.execute(select(func.now()))).scalar_one()
