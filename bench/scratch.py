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


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def hub_process(
    settings: Settings, *, workers: int = 1, **env: str
) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    """`hub serve` on a free port against the settings' database, until ready; stopped after.
    Its log goes to HUB_BENCH_LOG when that names a file."""
    log = open(os.environ["HUB_BENCH_LOG"], "ab") if os.environ.get("HUB_BENCH_LOG") else None  # noqa: SIM115, ASYNC230
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "HUB_DATA_DIR": str(settings.data_dir),
        **env,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        "serve",
        "--no-access-log",
        "--workers",
        str(workers),
        "--port",
        str(port),
        env=environment,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=log or asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            while True:
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
        yield base, proc
    finally:
        proc.terminate()
        await proc.wait()
        if log:
            log.close()
