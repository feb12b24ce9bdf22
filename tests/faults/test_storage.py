"""The database stops taking writes while the hub runs: turned read-only (a standby promoted the
other way, maintenance), or out of disk space. Writes get a clear 503 that says which and that
nothing was saved; what can be read is still read; when the fault clears, writes go through
again, and nothing is corrupt or half-written."""

from __future__ import annotations

import asyncio
import os
import pwd
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from hub.config import Settings
from hub.directory.models import Role
from tests.e2e.servers import hub_server
from tests.faults.checks import Acknowledged, check_nothing_lost_or_half_written, ledger_verifies
from tests.faults.cluster import PrivateCluster, actors_on, migrated_cluster
from tests.faults.workload import GRANT, READ, UPLOAD, call
from tests.helpers import Actor


@dataclass
class Hub:
    cluster: PrivateCluster
    settings: Settings
    http: httpx.AsyncClient
    buyer: Actor
    factory: Actor

    async def admin(self, *statements: str) -> None:
        conn = await asyncpg.connect(self.settings.libpq_url)
        try:
            for statement in statements:
                # moving every table locks them one by one while the live hub's background
                # tasks (sweeper, checkpoints, catch-up) read several in one transaction:
                # PostgreSQL may pick the move as a deadlock's victim; it rolled back, go again
                for attempt in range(5):
                    try:
                        await conn.execute(statement)
                        break
                    except asyncpg.DeadlockDetectedError:
                        if attempt == 4:
                            raise
        finally:
            await conn.close()

    async def grant(self, acked: Acknowledged) -> bool:
        data = await call(self.http, self.factory, GRANT, {"b": str(self.buyer.org.id)}, acked)
        if data:
            granted = data["grantConsent"]
            acked.ledger.append((granted["ledgerSeq"], granted["id"], "GRANTED"))
        return data is not None

    async def upload(self, acked: Acknowledged, prefix: str) -> bool:
        records = [
            {"buyerRef": f"{prefix}-{i}", "name": f"Storage Mill {prefix} {i}", "country": "KH"}
            for i in range(20)
        ]
        acked.attempted_uploads[prefix] = 20
        done = await call(self.http, self.buyer, UPLOAD, {"r": records}, acked) is not None
        if done:
            acked.uploads[prefix] = 20
        return done

    async def read(self, acked: Acknowledged) -> bool:
        return await call(self.http, self.buyer, READ, {}, acked) is not None


@pytest.fixture
async def hub(tmp_path: Path, key_file: Path) -> AsyncIterator[Hub]:
    cluster, settings = await migrated_cluster(tmp_path / "pg", key_file)
    buyer, factory = await actors_on(settings, Role.BUYER, Role.FACTORY)
    async with (
        hub_server(cluster.url, key_file, log_file=tmp_path / "hub.log") as (base, _),
        httpx.AsyncClient(base_url=base, timeout=15) as http,
    ):
        yield Hub(cluster, settings, http, buyer, factory)


async def test_a_read_only_database(hub: Hub, tmp_path: Path) -> None:
    acked = Acknowledged()
    assert await hub.grant(acked)
    await hub.admin(
        "ALTER SYSTEM SET default_transaction_read_only = on", "SELECT pg_reload_conf()"
    )
    await asyncio.sleep(0.5)  # every session takes up the reloaded setting
    assert not await hub.grant(acked)
    assert not await hub.upload(acked, "ro")
    assert acked.outcomes["refused: read_only"] == 2, acked.outcomes
    assert await hub.read(acked), acked.outcomes
    answer = await hub.http.post(
        "/graphql",
        json={"query": GRANT, "variables": {"b": str(hub.buyer.org.id)}},
        headers=hub.factory.headers,
    )
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "30"
    assert "read-only" in answer.json()["errors"][0]["message"]

    await hub.admin("ALTER SYSTEM RESET default_transaction_read_only", "SELECT pg_reload_conf()")
    await asyncio.sleep(0.5)
    assert await hub.upload(acked, "rw")
    assert await hub.grant(acked)
    await check_nothing_lost_or_half_written(hub.settings, acked)
    assert ledger_verifies(hub.settings, tmp_path).startswith("OK: ")


@pytest.fixture
def small_disk(tmp_path: Path, hub: Hub) -> Iterator[Path]:
    """A 16 MB filesystem the server's user owns (a tmpfs: mounting one takes root)."""
    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"a small filesystem needs root to mount: {made.stderr.decode().strip()}")
    if hub.cluster.system_user:
        owner = pwd.getpwnam(hub.cluster.system_user)
        os.chown(mount, owner.pw_uid, owner.pw_gid)
    try:
        yield mount
    finally:
        hub.cluster.stop()  # nothing may hold a file on it when it goes
        subprocess.run(["umount", "-l", str(mount)], check=False)


async def test_a_full_disk(hub: Hub, small_disk: Path, tmp_path: Path) -> None:
    acked = Acknowledged()
    assert await hub.grant(acked)
    # every table and index of the hub onto the small disk, then fill the disk
    await hub.admin(
        f"CREATE TABLESPACE small LOCATION '{small_disk}'",
        "ALTER TABLE ALL IN TABLESPACE pg_default SET TABLESPACE small",
        "ALTER INDEX ALL IN TABLESPACE pg_default SET TABLESPACE small",
        "CREATE TABLE filler (pad text) TABLESPACE small",
    )
    with pytest.raises(asyncpg.DiskFullError):
        await hub.admin(
            "INSERT INTO filler SELECT repeat(md5(g::text), 30) FROM generate_series(1, 1000000) g"
        )
    # what is left of a page here and there may take one small row: try until refused
    refused = 0
    for attempt in range(20):
        refused += not await hub.upload(acked, f"full{attempt}")
        refused += not await hub.grant(acked)
    assert acked.outcomes["refused: disk_full"] >= 10, acked.outcomes
    assert refused == acked.outcomes["refused: disk_full"]
    assert await hub.read(acked), acked.outcomes

    await hub.admin("DROP TABLE filler")
    assert await hub.upload(acked, "freed")
    assert await hub.grant(acked)
    await check_nothing_lost_or_half_written(hub.settings, acked)
    assert ledger_verifies(hub.settings, tmp_path).startswith("OK: ")
    print(f"\ndisk full: answers {dict(acked.outcomes)}")
