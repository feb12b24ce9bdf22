"""The typed per-request context and the request's database handle."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.principal import Principal
from hub.authz.service import RequestAuthz
from hub.config import Settings
from hub.db.faults import DatabaseFault
from hub.db.revisions import Revisions
from hub.disclosures.recorder import DisclosureRecorder
from hub.events.feed import EventFeed
from hub.graphql.loaders import Loaders


class RequestDatabase:
    """One session (one transaction) per GraphQL request.

    graphql-core resolves sibling fields concurrently, and an AsyncSession must not be used by
    two coroutines at once, so every use goes through a lock. The transaction is ended in one
    place, the TransactionExtension, from the operation's result.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._lock:
            if self._session is None:
                self._session = self._sessions()
            yield self._session

    def another(self) -> RequestDatabase:
        return RequestDatabase(self._sessions)

    def fresh(self) -> AsyncSession:
        """A short session of its own, outside the request's transaction: a subscription lives
        far longer than a transaction should."""
        return self._sessions()

    async def finish(self, *, commit: bool) -> None:
        async with self._lock:
            session, self._session = self._session, None
            if session is None:
                return
            try:
                if commit:
                    await session.commit()
                else:
                    await session.rollback()
            finally:
                await session.close()


@dataclass
class Context:
    principal: Principal
    settings: Settings
    db: RequestDatabase
    request_id: str
    loaders: Loaders
    authz: RequestAuthz
    disclosures: DisclosureRecorder
    request: Any = None
    response: Any = None
    # read with the consent catch-up before the operation (hub.graphql.transaction)
    revisions: Revisions | None = None
    # the answer stands as executed: no check refused it, its transaction ended as planned
    settled: bool = False
    # the database fault that stopped the catch-up: the answer is that fault, whatever ran
    fault: DatabaseFault | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # this process's reader of committed events, for subscriptions
    feed: EventFeed | None = None
    # graphql-transport-ws: connection_init's payload (strawberry sets it)
    connection_params: dict[str, Any] | None = None

    def for_operation(self) -> Context:
        """A copy with its own transaction, loaders and disclosure record. Strawberry builds a
        WebSocket's context once per connection; operations on one socket must not share a
        transaction (one would commit or roll back the other's work) or what they disclosed."""
        db = self.db.another()
        return replace(
            self,
            db=db,
            loaders=Loaders(db.session),
            disclosures=DisclosureRecorder(self.disclosures.buyer_id, self.request_id),
            revisions=None,
            settled=False,
            fault=None,
            extra={},
        )


Info = strawberry.Info[Context, None]
