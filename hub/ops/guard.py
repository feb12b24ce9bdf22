"""Limits on a GraphQL request as HTTP sees it, before any GraphQL work: the body's size, no
batched JSON arrays, a cap on each client's requests in flight, and a deadline after which the
request is stopped (its transaction rolls back: the TransactionExtension ends it on
cancellation)."""

from __future__ import annotations

import asyncio
import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.config import Settings
from hub.graphql.ratelimit import ClientBudgets

log = logging.getLogger(__name__)


async def _refuse(
    send: Send, status: int, code: str, message: str, *headers: tuple[bytes, bytes]
) -> None:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


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
        body = await self._body(scope, receive, send)
        if body is None:
            return
        if body.lstrip()[:1] == b"[":
            await _refuse(
                send,
                400,
                "BAD_USER_INPUT",
                "batched requests are not accepted: one operation per request",
            )
            return
        principal = scope.get("state", {}).get("principal")
        client = principal.subject if principal is not None else ""
        with self.budgets.slot(client) as admitted:
            if not admitted:
                await _refuse(
                    send,
                    429,
                    "RATE_LIMITED",
                    "too many requests in flight for this client; retry when one has finished",
                    (b"retry-after", b"1"),
                )
                return
            await self._run(scope, body, send)

    async def _body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        too_big = f"the request body is larger than {self.max_body} bytes"
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_body:
                await _refuse(send, 413, "BAD_USER_INPUT", too_big)
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
                await _refuse(send, 413, "BAD_USER_INPUT", too_big)
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
                await _refuse(
                    send,
                    503,
                    "INTERNAL_SERVER_ERROR",
                    f"the request ran longer than {self.timeout:g} s and was stopped; nothing "
                    "of it was saved. Ask for less, or retry later",
                    (b"retry-after", b"5"),
                )
