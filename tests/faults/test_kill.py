"""`hub serve` killed with SIGKILL in the middle of grants, revocations and supplier-list uploads,
twenty times over on one database: every change is all or nothing, and nothing it acknowledged
is lost. (A killed process runs no cleanup: only PostgreSQL's transactions stand between a
half-done mutation and the data.)"""

from __future__ import annotations

import asyncio
import os
import random
import signal
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config import Settings
from hub.directory.models import Role
from tests.e2e.servers import hub_server
from tests.faults.checks import Acknowledged, check_nothing_lost_or_half_written, ledger_verifies
from tests.faults.workload import consent_writer, upload_writer
from tests.helpers import make_actor

TRIALS = int(os.environ.get("HUB_KILL_TRIALS", "20"))


async def test_sigkill_mid_write_loses_nothing_acknowledged(
    database_url: str,
    key_file: Path,
    settings: Settings,
    session: AsyncSession,
    http: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    buyers = [await make_actor(session, http, Role.BUYER) for _ in range(2)]
    factories = [await make_actor(session, http, Role.FACTORY) for _ in range(3)]
    chance = random.Random(8)  # the kill moments are the same on every run
    acked = Acknowledged()
    cut_short = 0
    for trial in range(TRIALS):
        stop = asyncio.Event()
        async with (
            hub_server(
                database_url, key_file, log_file=tmp_path / f"hub-{trial}.log", measured=False
            ) as (
                base,
                proc,
            ),
            httpx.AsyncClient(base_url=base, timeout=10) as client,
        ):
            load = [
                *(
                    asyncio.create_task(consent_writer(client, f, buyers[0], acked, stop))
                    for f in factories
                ),
                *(asyncio.create_task(upload_writer(client, b, acked, stop)) for b in buyers),
            ]
            await asyncio.sleep(chance.uniform(0.15, 0.6))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            unanswered = acked.outcomes["no answer (RemoteProtocolError)"]
            stop.set()
            await asyncio.gather(*load)
            cut_short += acked.outcomes["no answer (RemoteProtocolError)"] - unanswered
        await check_nothing_lost_or_half_written(settings, acked)

    print(
        f"\n{TRIALS} SIGKILLs mid-write: answers {dict(acked.outcomes)}; "
        f"{len(acked.ledger)} acknowledged ledger events and {len(acked.uploads)} acknowledged "
        f"uploads of {len(acked.attempted_uploads)} attempted, all there; 0 half-written"
    )
    assert len(acked.ledger) > TRIALS
    assert cut_short > 0, "no kill landed on a request in flight"
    others = {k for k in acked.outcomes if k != "done" and not k.startswith("no answer")}
    assert not others, acked.outcomes
    assert ledger_verifies(settings, tmp_path).startswith("OK: ")
