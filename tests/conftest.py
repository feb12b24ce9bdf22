"""Fixtures: a real PostgreSQL (DATABASE_URL, or an embedded one), a migrated template database
cloned per test, and the real app over ASGI.

Each test gets its own database cloned from a migrated template (CREATE DATABASE … TEMPLATE):
as isolated as a rolled-back transaction, but the code under test commits for real, which the
ledger's locks, NOTIFY and the commit-or-rollback extension need.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from hub.app import create_app
from hub.config import Settings, to_async_url
from hub.db.embedded import start_embedded
from hub.db.engine import build_engine, build_sessionmaker
from hub.ops.database import prepare_database

# Client secrets and passwords made by the tests (hundreds of organisations, each with a client)
# are hashed at scrypt cost 2^10 instead of 2^14: a tenth of a second less per actor, minutes per
# run. Checking uses the cost stored in each hash, so the code path is the same; servers the
# tests start inherit it. (tests/auth checks the production default.)
os.environ["HUB_SECRET_HASH_COST"] = "10"
from tests.helpers import Actors, make_actors


def _libpq(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def database_named(server_url: str, name: str) -> str:
    return (
        make_url(to_async_url(server_url)).set(database=name).render_as_string(hide_password=False)
    )


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A PostgreSQL server: DATABASE_URL's, else an embedded one for this test run."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield to_async_url(url)
        return
    with tempfile.TemporaryDirectory(prefix="hub-test-pg-") as folder:
        yield to_async_url(start_embedded(Path(folder) / "pgdata", delete_on_exit=True))


async def _admin(server_url: str) -> asyncpg.Connection:
    return await asyncpg.connect(_libpq(database_named(server_url, "postgres")))


@pytest.fixture(scope="session")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys") / "jwt-signing-keys.json"


@pytest.fixture(scope="session")
def template_db(server_url: str, key_file: Path) -> Iterator[str]:
    name = f"hub_tpl_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        conn = await _admin(server_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    async def drop() -> None:
        conn = await _admin(server_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(create())
    settings = make_settings(database_named(server_url, name), key_file)
    prepare_database(settings)
    yield name
    asyncio.run(drop())


def make_settings(database_url: str, key_file: Path, **overrides: Any) -> Settings:
    env = {
        "DATABASE_URL": database_url,
        "HUB_SIGNING_KEY_FILE": str(key_file),
        "HUB_LEDGER_KEY_FILE": str(key_file.with_name("ledger-ed25519.pem")),
        "HUB_DATA_DIR": str(key_file.parent),
        "HUB_DB_POOL_SIZE": "4",
        # tests fire many requests from one client in a moment; the budgets have tests of their
        # own (tests/hardening), which set them
        "HUB_RATE_BUDGET": "0",
        "HUB_CLIENT_CONCURRENCY": "0",
        **{k: str(v) for k, v in overrides.items()},
    }
    return Settings.from_env(env)


@pytest.fixture
async def database_url(server_url: str, template_db: str) -> AsyncIterator[str]:
    """A fresh database for this test, cloned from the migrated template."""
    name = f"hub_t_{uuid.uuid4().hex[:12]}"
    conn = await _admin(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
    finally:
        await conn.close()
    yield database_named(server_url, name)
    conn = await _admin(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
def settings(database_url: str, key_file: Path) -> Settings:
    return make_settings(database_url, key_file)


@pytest.fixture
async def session(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A session for arranging data and checking results; commit what the app must see."""
    engine = build_engine(settings)
    async with build_sessionmaker(engine)() as s:
        yield s
    await engine.dispose()


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        yield client


@pytest.fixture
async def actors(session: AsyncSession, http: httpx.AsyncClient) -> Actors:
    """One organisation per role, each with a client and a token from /oauth/token."""
    return await make_actors(session, http)
