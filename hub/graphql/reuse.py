"""Kept answers served at the HTTP edge: a repeated question skips strawberry altogether.

On a cached answer, the fixed path of a request through strawberry (the view, the context with
its loaders, parsing the body, the extension hooks, building and encoding the response) was
two thirds of its CPU (py-spy, bench/RESULTS.md). Here a hit costs what correctness needs and
nothing else: the revisions (the statement hub.graphql.transaction reads; a consent projection
behind the ledger head catches up here, as it would there), a lookup, the budget charge, the
disclosure check and rows when the answer holds protected content, committed before a byte is
sent, and the bytes sent the first time.

Anything other than a clean hit falls through to the ordinary path, which then answers as if
nothing were kept: a miss, a refused budget (answered 429 there), a consent that moved since
the answer was built (the disclosure check refuses: the ordinary path resolves afresh), any
database fault. What may be kept, and why a kept answer is still correct, is said in
hub.graphql.response_cache.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from starlette.types import Message, Scope, Send

from hub.auth.principal import Principal
from hub.authz.service import Authorizer
from hub.db.faults import database_fault
from hub.db.revisions import READ_SQL, revisions_of
from hub.disclosures.recorder import DisclosureRecorder
from hub.disclosures.repository import DISCLOSE_ON_DRIVER, disclose_args
from hub.graphql.ratelimit import ClientBudgets, Refused
from hub.graphql.response_cache import BODY, KEEP, CachedAnswer, Keep, ResponseCache, answer_key

log = logging.getLogger(__name__)


class AnswerReuse:
    def __init__(
        self,
        cache: ResponseCache,
        engine: AsyncEngine,
        authorizer: Authorizer,
        budgets: ClientBudgets,
    ) -> None:
        self.cache = cache
        self.engine = engine
        self.authorizer = authorizer
        self.budgets = budgets

    async def answer(self, scope: Scope, send: Send) -> bool:
        """Send the kept answer to this request and return True, or return False having sent
        nothing and changed nothing."""
        state = scope.get("state") or {}
        principal = state.get("principal")
        body = scope.get(BODY)
        if not isinstance(principal, Principal) or body is None:
            return False
        try:
            found = await self._reuse(principal, body, state.get("request_id"))
        except Refused:
            found = None  # the ordinary path refuses it, with the tarpit and Retry-After
        except Exception as exc:
            # a fault (the database down, a connection lost) the ordinary path meets again and
            # answers as such
            if database_fault(exc) is None:
                log.exception("reusing an answer failed; answering afresh")
            found = None
        if found is None:
            return False
        await send({"type": "http.response.start", "status": 200, "headers": found.headers})
        await send({"type": "http.response.body", "body": found.body})
        return True

    async def _reuse(
        self, principal: Principal, body: bytes, request_id: str | None
    ) -> CachedAnswer | None:
        # the pool's connection, used on the driver: SQLAlchemy's session and result machinery
        # was most of what was left of a hit (py-spy), for two fixed statements. Each runs in
        # its own implicit transaction (READ COMMITTED takes a snapshot per statement anyway).
        candidate = self.cache.peek(answer_key(principal, body))
        if candidate is None:
            # nothing kept for this caller and body (a mutation, a first question): no
            # database work here, the ordinary path reads the revisions itself
            return self.cache.reused(None, -1)
        async with self.engine.connect() as connection:
            try:
                driver = (await connection.get_raw_connection()).driver_connection
                return await self._settle(connection, driver, candidate, principal, request_id)
            except Refused:
                raise
            except BaseException:
                # broken, or stopped mid-statement (a deadline): the pool must not reuse it
                with contextlib.suppress(Exception):
                    await connection.invalidate()
                raise

    async def _settle(
        self,
        connection: AsyncConnection,
        driver: Any,
        candidate: CachedAnswer,
        principal: Principal,
        request_id: str | None,
    ) -> CachedAnswer | None:
        revisions = revisions_of(*await driver.fetchrow(READ_SQL))
        if revisions.ledger_head > self.authorizer.revision:
            # The consent projection is behind the head: catch up here, as the ordinary path
            # would. Most often the head moved by a digest of the disclosure log (every few
            # seconds under load), which changes no answer and no data revision; falling through
            # sent every request meeting that moment into building its answer afresh, in every
            # worker at once (the p99 of W1-W3, bench/RESULTS.md). A consent change moves the
            # data revision too, so the entry below is then a miss.
            async with AsyncSession(connection) as session:
                await self.authorizer.catch_up(session, revisions.ledger_head)
        found = self.cache.reused(candidate, revisions.data)
        if found is None:
            return None
        # charged before the check: if a consent moved, the ordinary path charges again (a rare
        # race, and the client's loss); charged after, a refused budget would leave disclosure
        # rows for an answer never sent
        await self.budgets.charge(principal.subject, found.cost)
        if found.disclosed:
            recorder = DisclosureRecorder.of(principal, request_id or uuid.uuid4().hex)
            recorder.items.update(found.disclosed)
            if recorder.buyer_id is None:
                return None
            items = recorder.ordered()
            args = disclose_args(recorder.request_id, recorder.buyer_id, items)
            if await driver.fetchval(DISCLOSE_ON_DRIVER, *args) != len(items):
                return None  # a consent moved: nothing was written; resolve afresh
        return found

    def keeper(self, scope: Scope, send: Send) -> Send:
        """``send`` that also keeps the answer, if the schema marked it keepable (KEEP)."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def keeping(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                keep = scope.get(KEEP)
                ended = not message.get("more_body")
                if ended and isinstance(keep, Keep) and start["status"] == 200:
                    self.cache.put(
                        keep.key,
                        CachedAnswer(
                            revision=keep.revision,
                            headers=tuple(start.get("headers", ())),
                            body=b"".join(chunks),
                            disclosed=keep.disclosed,
                            valid_until=keep.valid_until,
                            cost=keep.cost,
                        ),
                    )
            await send(message)

        return keeping
