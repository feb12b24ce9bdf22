"""A small graphql-transport-ws client for tests, over a real WebSocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

PROTOCOL = "graphql-transport-ws"


@asynccontextmanager
async def graphql_socket(
    base_url: str, token: str | None, *, in_header: bool = False
) -> AsyncIterator[ClientConnection]:
    """An acknowledged connection; the token in connection_init (as browsers send it) or in
    the upgrade's Authorization header."""
    url = base_url.replace("http://", "ws://", 1) + "/graphql"
    headers = {"Authorization": f"Bearer {token}"} if token and in_header else {}
    async with connect(url, subprotocols=[PROTOCOL], additional_headers=headers) as ws:  # type: ignore[list-item]
        payload = {"Authorization": f"Bearer {token}"} if token and not in_header else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        yield ws


async def start(ws: ClientConnection, query: str, op_id: str = "1") -> None:
    await ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": query}}))


async def receive(ws: ClientConnection, wait: float = 10) -> dict[str, Any]:
    """The next message that is not a ping (answered)."""
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), wait))
        if message["type"] == "ping":
            await ws.send(json.dumps({"type": "pong"}))
            continue
        return message
