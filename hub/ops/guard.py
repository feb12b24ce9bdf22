"""Limits on a GraphQL request as HTTP sees it, before any GraphQL work: a cap on each client's
requests in flight and its spent budget (checked first, so refusing costs next to nothing), the
body's size, no batched JSON arrays, and a deadline after which the request is stopped (its
transaction rolls back: the TransactionExtension ends it on cancellation).

A refused client is answered after a pause (TARPIT): a client that retries at once, ignoring
Retry-After, then spends its own time waiting rather than the server's CPU answering.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.config import Settings
from hub.graphql.ratelimit import ClientBudgets
from hub.graphql.response_cache import BODY
from hub.ops.responses import send_error
from hub.ops.throttle import TARPIT

log = logging.getLogger(__name__)


async def _too_many(send: Send, message: str, retry_after: int) -> None:
    await asyncio.sleep(TARPIT)
    await send_error(
        send, 429, "RATE_LIMITED", message, (b"retry-after", str(retry_after).encode())
    )


class RequestGuard:
    def __init__(self, app: ASGIApp, settings: Settings, budgets: ClientBudgets) -> None:
        self.app = app
        self.max_body = settings.max_body
        self.timeout = settings.request_timeout
        self.budgets = budgets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/graphql":
            await self.app(scope, receive, send)
            return
        principal = scope.get("state", {}).get("principal")
        client = principal.subject if principal is not None else ""
        with self.budgets.slot(client) as admitted:
            if not admitted:
                busy = "too many requests in flight for this client; retry when one has ended"
                await _too_many(send, busy, 1)
                return
            wait = await self.budgets.spent(client)
            if wait is not None:
                spent = f"rate limit: this client's budget is spent; retry in {wait} s"
                await _too_many(send, spent, wait)
                return
            body = await self._body(scope, receive, send)
            if body is None:
                return
            if body.lstrip()[:1] == b"[":
                batched = "batched requests are not accepted: one operation per request"
                await send_error(send, 400, "BAD_USER_INPUT", batched)
                return
            scope[BODY] = body  # as read: a kept answer is keyed by it (hub.graphql.reuse)
            await self._run(scope, body, send)

    async def _body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        too_big = f"the request body is larger than {self.max_body} bytes"
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_body:
                await send_error(send, 413, "BAD_USER_INPUT", too_big)
                return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await send_error(send, 413, "BAD_USER_INPUT", too_big)
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    async def _run(self, scope: Scope, body: bytes, send: Send) -> None:
        delivered = False
        started = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # no more body; wait for the end like a server would
            raise AssertionError("unreachable")

        async def watch(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            async with asyncio.timeout(self.timeout):
                await self.app(scope, replay, watch)
        except TimeoutError:
            log.warning("request stopped at its deadline (%g s)", self.timeout)
            if not started:
                await send_error(
                    send,
                    503,
                    "INTERNAL_SERVER_ERROR",
                    f"the request ran longer than {self.timeout:g} s and was stopped; nothing "
                    "of it was saved. Ask for less, or retry later",
                    (b"retry-after", b"5"),
                )
