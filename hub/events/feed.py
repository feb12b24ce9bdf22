"""Each process reads committed events from the outbox, in order, and hands them to the
subscriptions open in that process; so an event reaches subscribers on every process, whichever
process made the change.

Order and completeness: outbox ids are taken at insert, not at commit, so a reader that moved a
cursor over ids could be passed by a transaction that commits late with a lower id. Rows carry
their transaction's id instead, and the reader takes only rows of transactions older than the
oldest one still running (`pg_snapshot_xmin`), in (txid, id) order: no row can appear behind
the cursor afterwards. A long writing transaction elsewhere delays events; it never loses one.

Before handing a batch out, the consent projection catches up to the ledger head, so every
decision on a later event sees every consent change up to it (hub.events.audience).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.authz.service import Authorizer
from hub.directory.models import Role
from hub.events.audience import FeedEvent, may_hear

log = logging.getLogger(__name__)

_XMIN = "(pg_snapshot_xmin(pg_current_snapshot())::text)::bigint"
_TAIL = text(
    f"SELECT txid, id FROM events WHERE txid < {_XMIN} ORDER BY txid DESC, id DESC LIMIT 1"
)
_AFTER = text(
    "SELECT id, txid, event_id, type, at, factory_id, parties, gated_scope, gated_to, data,"
    f" txid >= {_XMIN} AS held"
    " FROM events WHERE (txid, id) > (:txid, :id) ORDER BY txid, id LIMIT :limit"
)


@dataclass(eq=False)
class Subscriber:
    org_id: uuid.UUID
    role: Role
    queue: asyncio.Queue[FeedEvent]
    # set when the queue overflowed: the subscriber was too slow and missed events
    overflowed: bool = False
    lagging: asyncio.Event = field(default_factory=asyncio.Event)


class EventFeed:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        authorizer: Authorizer,
        queue_size: int = 1000,
        batch: int = 500,
        held_poll: float = 0.05,
    ) -> None:
        self.sessions = sessions
        self.authorizer = authorizer
        self.queue_size = queue_size
        self.batch = batch
        self.held_poll = held_poll
        self.subscribers: set[Subscriber] = set()
        # who listens, by organisation: an event wakes only the subscriptions that may hear of
        # it, not all of them (a thousand idle subscriptions cost a thousand task switches per
        # event otherwise)
        self.by_org: dict[uuid.UUID, set[Subscriber]] = {}
        self.cursor: tuple[int, int] | None = None
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def subscribe(self, org_id: uuid.UUID, role: Role) -> AsyncIterator[Subscriber]:
        subscriber = Subscriber(org_id, role, asyncio.Queue(self.queue_size))
        self.subscribers.add(subscriber)
        self.by_org.setdefault(org_id, set()).add(subscriber)
        try:
            if self.cursor is None:
                await self.poll()  # the first subscription in this process fixes the start
            yield subscriber
        finally:
            self.subscribers.discard(subscriber)
            same_org = self.by_org.get(org_id)
            if same_org is not None:
                same_org.discard(subscriber)
                if not same_org:
                    del self.by_org[org_id]

    async def poll(self) -> int:
        """Hand out every event now readable past the cursor; return how many."""
        async with self._lock:
            if not self.subscribers:
                self.cursor = None  # nobody listens here: read nothing until someone does
                return 0
            sent = 0
            while True:
                async with self.sessions() as session:
                    if self.cursor is None:
                        tail = (await session.execute(_TAIL)).one_or_none()
                        self.cursor = (int(tail[0]), int(tail[1])) if tail else (0, 0)
                        return 0
                    txid, last = self.cursor
                    rows = (
                        await session.execute(
                            _AFTER, {"txid": txid, "id": last, "limit": self.batch}
                        )
                    ).all()
                    ready = [r for r in rows if not r.held]
                    if ready:
                        await self.authorizer.catch_up(session)
                for row in ready:
                    self._dispatch(feed_event(row))
                    self.cursor = (int(row.txid), int(row.id))
                sent += len(ready)
                if len(ready) == self.batch:
                    continue
                if len(ready) < len(rows):
                    # committed rows behind a transaction still running: look again shortly
                    # (it may never NOTIFY, e.g. a long supplier upload)
                    await asyncio.sleep(self.held_poll)
                    continue
                return sent

    def _dispatch(self, event: FeedEvent) -> None:
        """To the subscriptions that may hear of it now; each checks again when it sends."""
        for org_id, subscribers in self.by_org.items():
            role = next(iter(subscribers)).role  # one organisation, one role
            if may_hear(event, org_id, role, self.authorizer):
                self._enqueue(event, subscribers)

    @staticmethod
    def _enqueue(event: FeedEvent, subscribers: set[Subscriber]) -> None:
        for subscriber in subscribers:
            if subscriber.overflowed:
                continue
            try:
                subscriber.queue.put_nowait(event)
            except asyncio.QueueFull:
                subscriber.overflowed = True
                subscriber.lagging.set()


def feed_event(r: Row[Any]) -> FeedEvent:
    """An outbox row (the columns of _AFTER) as readers pass it on."""
    return FeedEvent(
        id=int(r.id),
        txid=int(r.txid),
        event_id=r.event_id,
        type=r.type,
        at=r.at,
        factory_id=r.factory_id,
        parties=frozenset(r.parties),
        gated_scope=r.gated_scope,
        gated_to=frozenset(r.gated_to) if r.gated_to is not None else None,
        data=r.data,
    )
