"""PostgreSQL crashes (immediate stop: no checkpoint, WAL recovery at start) and comes back while
a live hub is under load: requests fail cleanly meanwhile, /readyz says so, the hub reconnects
by itself, its LISTEN task catches up, and no acknowledged write is lost or half-written."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from hub.directory.models import Role
from tests.e2e.servers import hub_server
from tests.events.sockets import graphql_socket, receive, start
from tests.faults.checks import Acknowledged, check_nothing_lost_or_half_written, ledger_verifies
from tests.faults.cluster import actors_on, migrated_cluster
from tests.faults.workload import consent_writer, reader, upload_writer
from tests.helpers import Actor, grant

UPDATES = "subscription { supplierUpdates { type factoryId } }"
OUTAGE = 3.0


async def _ready(http: httpx.AsyncClient) -> bool:
    try:
        return (await http.get("/readyz")).status_code == 200
    except httpx.TransportError:
        return False


async def test_a_postgres_crash_under_load(tmp_path: Path, key_file: Path) -> None:
    cluster, settings = await migrated_cluster(tmp_path / "pg", key_file)
    buyer, *factories, probe = await actors_on(settings, Role.BUYER, *[Role.FACTORY] * 5)

    acked = Acknowledged()
    stop = asyncio.Event()
    async with (
        hub_server(cluster.url, key_file, log_file=tmp_path / "hub.log") as (base, proc),
        httpx.AsyncClient(base_url=base, timeout=15) as http,
        graphql_socket(base, buyer.token) as ws,
    ):
        await start(ws, UPDATES)
        load = [
            *(asyncio.create_task(consent_writer(http, f, buyer, acked, stop)) for f in factories),
            asyncio.create_task(upload_writer(http, buyer, acked, stop)),
            asyncio.create_task(reader(http, buyer, acked, stop)),
        ]
        await asyncio.sleep(1.5)
        done_before = acked.outcomes["done"]
        assert done_before > 0, acked.outcomes

        await asyncio.to_thread(cluster.crash)
        down_at = time.monotonic()
        readyz_down = False
        while time.monotonic() - down_at < OUTAGE:
            readyz_down = readyz_down or not await _ready(http)
            await asyncio.sleep(0.2)
        refused_during = sum(v for k, v in acked.outcomes.items() if k.startswith("refused"))

        await asyncio.to_thread(cluster.start)
        back_at = time.monotonic()
        done_at_restart = acked.outcomes["done"]
        while acked.outcomes["done"] == done_at_restart:
            assert time.monotonic() - back_at < 30, f"no recovery: {acked.outcomes}"
            await asyncio.sleep(0.05)
        first_write_after = time.monotonic() - back_at
        while not await _ready(http):
            assert time.monotonic() - back_at < 30, "/readyz stayed unavailable"
            await asyncio.sleep(0.05)
        ready_after = time.monotonic() - back_at
        await asyncio.sleep(1.5)
        stop.set()
        await asyncio.gather(*load)

        # the LISTEN connection came back: a change now reaches the open subscription
        await grant(http, probe, buyer, ["SUMMARY"])
        heard = await _hear_grant_of(ws, probe)
        assert proc.poll() is None, "the hub process died"

    print(
        f"\nPostgreSQL crash for {OUTAGE:.0f} s under load: answers {dict(acked.outcomes)}; "
        f"after it was back, first answered request in {first_write_after:.2f} s, "
        f"/readyz ready in {ready_after:.2f} s; {len(acked.ledger)} acknowledged ledger events, "
        f"{len(acked.uploads)} acknowledged uploads; subscription heard {heard}"
    )
    assert readyz_down, "/readyz never said the database was down"
    assert refused_during > 0, acked.outcomes
    unclean = {
        k: v for k, v in acked.outcomes.items() if k != "done" and not k.startswith("refused")
    }
    assert not unclean, f"answers other than done or a clean refusal: {unclean}"
    await check_nothing_lost_or_half_written(settings, acked)
    assert ledger_verifies(settings, tmp_path).startswith("OK: ")


async def _hear_grant_of(ws: object, factory: Actor) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        message = await receive(ws, wait=deadline - time.monotonic())  # type: ignore[arg-type]
        assert message["type"] == "next", message
        update = message["payload"]["data"]["supplierUpdates"]
        if update == {"type": "consent.granted", "factoryId": str(factory.org.id)}:
            return "the grant made after the restart"
        if factory.factory and update["factoryId"] == str(factory.factory.id):
            return "the grant made after the restart"
    raise AssertionError("the subscription heard nothing after the restart")
