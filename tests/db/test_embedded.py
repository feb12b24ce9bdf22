"""The embedded path: with no server at all, the hub starts PostgreSQL itself, migrates it
(pg_trgm included), and answers GraphQL. Runs whatever DATABASE_URL says."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager

from hub.app import create_app
from hub.config import Settings
from hub.db.engine import build_engine, build_sessionmaker, resolve_database_url
from hub.directory.models import Role
from hub.ops.database import prepare_database
from tests.helpers import gql, make_actor


@pytest.mark.embedded
async def test_hub_runs_on_an_embedded_server(tmp_path: Path, key_file: Path) -> None:
    env = {"HUB_DATA_DIR": str(tmp_path / "data"), "HUB_SIGNING_KEY_FILE": str(key_file)}
    settings = Settings.from_env(env)
    assert settings.database_url is None
    resolved = resolve_database_url(settings)
    assert resolved.database_url is not None
    assert str(tmp_path) in resolved.database_url  # the server's socket is in our data folder
    questions = await asyncio.to_thread(prepare_database, resolved)
    assert questions >= 120

    conn = await asyncpg.connect(resolved.database_url.replace("+asyncpg", ""))
    try:
        assert await conn.fetchval("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'")
    finally:
        await conn.close()

    app = create_app(resolved)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
            assert (await http.get("/readyz")).json()["status"] == "ready"
            engine = build_engine(resolved)
            async with build_sessionmaker(engine)() as session:
                buyer = await make_actor(session, http, Role.BUYER)
            await engine.dispose()
            body = await gql(http, '{ questions(country: "KH") { code } }', actor=buyer)
            assert len(body["data"]["questions"]) >= 120
