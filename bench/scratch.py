"""What the benchmark scripts share: a scratch database, migrated, dropped afterwards; a
percentile."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hub.config import Settings, to_async_url
from hub.ops.database import prepare_database

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@asynccontextmanager
async def scratch_database(name: str, *, keep: bool = False) -> AsyncIterator[Settings]:
    """A fresh database `name` on DATABASE_URL's server (the local one by default), at the
    latest migration, with its own key files; dropped on the way out unless `keep`."""
    server = os.environ.get("DATABASE_URL", DEFAULT_SERVER)
    url = make_url(to_async_url(server)).set(database=name).render_as_string(hide_password=False)
    admin = await asyncpg.connect(server.replace("+asyncpg", ""))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
        settings = Settings.from_env({"DATABASE_URL": url, "HUB_DATA_DIR": tempfile.mkdtemp()})
        await asyncio.to_thread(prepare_database, settings)
        yield settings
    finally:
        if not keep:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
