"""Kept answers served at the HTTP edge: a repeated question skips strawberry altogether.

On a cached answer, the fixed path of a request through strawberry (the view, the context with
its loaders, parsing the body, the extension hooks, building and encoding the response) was
two thirds of its CPU (py-spy, bench/RESULTS.md). Here a hit costs what correctness needs and
nothing else: the revisions and the consent catch-up (one statement, as in
hub.graphql.transaction), a lookup, the budget charge, the disclosure check and rows when the
answer holds protected content, and the bytes sent the first time.

Anything other than a clean hit falls through to the ordinary path, which then answers as if
nothing were kept: a miss, a refused budget (answered 429 there), a consent that moved since
the answer was built (the disclosure check refuses: the ordinary path resolves afresh), any
database fault. What may be kept, and why a kept answer is still correct, is said in
hub.graphql.response_cache.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import Message, Scope, Send

from hub.auth.principal import Principal
from hub.authz.service import Authorizer
from hub.db.faults import database_fault
from hub.db.revisions import read_revisions
from hub.disclosures.recorder import DisclosureRecorder
from hub.errors import Forbidden
from hub.graphql.ratelimit import ClientBudgets, Refused
from hub.graphql.response_cache import BODY, KEEP, CachedAnswer, Keep, ResponseCache, answer_key

log = logging.getLogger(__name__)


class AnswerReuse:
    def __init__(
        self,
        cache: ResponseCache,
        sessions: async_sessionmaker[AsyncSession],
        authorizer: Authorizer,
        budgets: ClientBudgets,
    ) -> None:
        self.cache = cache
        self.sessions = sessions
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
        found: CachedAnswer | None = None
        async with self.sessions() as session:
            try:
                found = await self._settle(session, principal, body, state.get("request_id"))
            except (Refused, Forbidden):
                found = None  # the ordinary path refuses, or resolves afresh
            except Exception as exc:
                if database_fault(exc) is None:
                    log.exception("reusing an answer failed; answering afresh")
                found = None
            if found is None:
                await session.rollback()
        if found is None:
            return False
        await send({"type": "http.response.start", "status": 200, "headers": found.headers})
        await send({"type": "http.response.body", "body": found.body})
        return True

    async def _settle(
        self, session: AsyncSession, principal: Principal, body: bytes, request_id: str | None
    ) -> CachedAnswer | None:
        revisions = await read_revisions(session)
        await self.authorizer.catch_up(session, revisions.ledger_head)
        found = self.cache.get(answer_key(revisions.data, principal, body))
        if found is None:
            return None
        await self.budgets.charge(principal.subject, found.cost)
        if found.disclosed:
            recorder = DisclosureRecorder.of(principal, request_id or uuid.uuid4().hex)
            recorder.items.update(found.disclosed)
            await recorder.commit_check(session)
            await session.commit()
        else:
            await session.rollback()
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
                            headers=tuple(start.get("headers", ())),
                            body=b"".join(chunks),
                            disclosed=keep.disclosed,
                            valid_until=keep.valid_until,
                            cost=keep.cost,
                        ),
                    )
            await send(message)

        return keeping
