"""Every error carries a code; document limits refuse before execution; crashes are masked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.app import create_app
from hub.directory.models import Role
from tests.conftest import make_settings
from tests.helpers import Actors, error_codes, gql


@pytest.fixture
async def shallow_http(database_url: str, key_file: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a depth limit of 2, so the current (shallow) schema can exceed it."""
    app = create_app(make_settings(database_url, key_file, HUB_MAX_DEPTH=2))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
            yield client


async def test_too_deep(shallow_http: httpx.AsyncClient, actors: Actors) -> None:
    ok = "{ factories { edges { cursor } } }"
    assert "errors" not in await gql(shallow_http, ok, actor=actors[Role.BUYER])
    deep = "{ factories { edges { node { id } } } }"
    body = await gql(shallow_http, deep, actor=actors[Role.BUYER])
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
    assert "depth" in body["errors"][0]["message"]
    assert body.get("data") is None


async def test_too_many_aliases(http, actors: Actors) -> None:
    query = "{ " + " ".join(f"a{i}: viewer {{ role }}" for i in range(16)) + " }"
    body = await gql(http, query, actor=actors[Role.BUYER])
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
    assert body.get("data") is None


async def test_too_many_tokens(http, actors: Actors) -> None:
    query = "{ viewer { " + "role " * 2100 + "} }"
    body = await gql(http, query, actor=actors[Role.BUYER])
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"]


async def test_validation_errors_are_bad_user_input(http, actors: Actors) -> None:
    body = await gql(http, "{ viewer { nope } }", actor=actors[Role.BUYER])
    assert error_codes(body) == ["BAD_USER_INPUT"]
    body = await gql(http, "{ viewer { ", actor=actors[Role.BUYER])
    assert error_codes(body) == ["BAD_USER_INPUT"]
    body = await gql(
        http,
        "query($n: Int) { factories(first: $n) { totalCount } }",
        {"n": "x"},
        actor=actors[Role.BUYER],
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_unexpected_errors_are_masked(http, actors: Actors, session: AsyncSession) -> None:
    # break the database under the app: the resolver's SQL fails in a way no code expects
    await session.execute(text("ALTER TABLE factories RENAME TO factories_gone"))
    await session.commit()
    body = await gql(
        http,
        "{ factories { totalCount } }",
        actor=actors[Role.BUYER],
        headers={"x-request-id": "req-42"},
    )
    assert error_codes(body) == ["INTERNAL_SERVER_ERROR"]
    error = body["errors"][0]
    assert error["extensions"]["requestId"] == "req-42"
    assert "req-42" in error["message"]
    shown = (error["message"] + str(error["extensions"])).lower()
    for leak in ("factories", "select", "sqlalchemy", "asyncpg", "traceback", "relation"):
        assert leak not in shown, leak
