"""A client may have only so many requests in flight; the next one is refused at once (429)
while other clients go on."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from hub.auth.principal import Principal
from hub.config import Settings
from hub.directory.models import Role
from hub.graphql.ratelimit import ClientBudgets
from hub.ops.guard import RequestGuard


class Held:
    """Downstream of the guard: answers once released (a slow GraphQL request)."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


def as_client(app: Any, client: str) -> Any:
    """The token middleware's part: the verified principal in the scope."""

    async def with_principal(scope: Any, receive: Any, send: Any) -> None:
        principal = Principal(uuid_of(client), Role.BUYER, client, "t", 2**40)
        scope.setdefault("state", {})["principal"] = principal
        await app(scope, receive, send)

    return with_principal


def uuid_of(name: str) -> Any:
    import uuid

    return uuid.uuid5(uuid.NAMESPACE_URL, name)


async def test_the_cap_refuses_the_extra_request_of_one_client_only(settings: Settings) -> None:
    capped = Settings.from_env(
        {"DATABASE_URL": settings.database_url or "", "HUB_CLIENT_CONCURRENCY": "2"}
    )
    held = Held()
    guard = RequestGuard(held, capped, ClientBudgets(capped))

    def client(name: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=as_client(guard, name))
        return httpx.AsyncClient(transport=transport, base_url="http://hub.test")

    async with client("flood") as flood, client("quiet") as quiet:
        first = [asyncio.create_task(flood.post("/graphql", json={})) for _ in range(2)]
        await asyncio.sleep(0.05)
        refused = await flood.post("/graphql", json={})
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        other = asyncio.create_task(quiet.post("/graphql", json={}))
        await asyncio.sleep(0.05)
        held.release.set()
        assert [r.status_code for r in await asyncio.gather(*first)] == [200, 200]
        assert (await other).status_code == 200
        # slots come back when requests end
        assert (await flood.post("/graphql", json={})).status_code == 200
