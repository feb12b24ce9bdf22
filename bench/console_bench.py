#!/usr/bin/env python3
"""How fast the console's pages answer on the demo data, through a real `hub serve`: each main
page fetched as a signed-in person, one request at a time (a person clicking), after a warm-up.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python bench/console_bench.py

Prints p50/p95/max in milliseconds per page (target: the first page under 200 ms). Creates
and drops `hub_bench_console`. The person's budget of cost points is off here: the factory page
costs about 3,700 points (three lists of up to 100), so the default budget allows some 27 loads
a minute, which a person does not reach but a loop of 100 does.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scratch import hub_process, pct, scratch_database

from hub.accounts.service import Accounts
from hub.db.engine import build_engine, build_sessionmaker
from hub.directory.models import Role
from hub.ops.demo import load_demo

DB = "hub_bench_console"
PASSWORD = "bench console passphrase"
PAGES = {
    Role.FACTORY: ["/console/", "/console/disclosures", "/console/plan"],
    Role.AUDITOR: ["/console/ledger"],
}


async def sign_in(http: httpx.AsyncClient, email: str) -> None:
    form = await http.get("/console/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf
    done = await http.post(
        "/console/login", data={"email": email, "password": PASSWORD, "csrf": csrf.group(1)}
    )
    assert done.status_code in (200, 303), done.text


async def main(rounds: int) -> None:
    async with scratch_database(DB) as settings:
        engine = build_engine(settings)
        emails = {}
        async with build_sessionmaker(engine)() as session, session.begin():
            demo = await load_demo(session)
            for role in PAGES:
                emails[role] = f"{role.value.lower()}@bench.example"
                await Accounts(session).create_user(demo.by_role[role].id, emails[role], PASSWORD)
        await engine.dispose()
        async with hub_process(settings, HUB_RATE_BUDGET="0") as (base, _):
            print(f"console pages on the demo data, {rounds} sequential requests each (ms)")
            print(f"{'page':<24}{'first':>8}{'p50':>8}{'p95':>8}{'max':>8}")
            for role, pages in PAGES.items():
                async with httpx.AsyncClient(
                    base_url=base, follow_redirects=True, timeout=30
                ) as http:
                    await sign_in(http, emails[role])
                    for path in pages:
                        times = []
                        for _ in range(rounds + 1):
                            started = time.perf_counter()
                            response = await http.get(path)
                            times.append((time.perf_counter() - started) * 1000)
                            assert response.status_code == 200, (path, response.status_code)
                        first, rest = times[0], times[1:]
                        print(
                            f"{path:<24}{first:>8.1f}{pct(rest, 0.5):>8.1f}"
                            f"{pct(rest, 0.95):>8.1f}{max(rest):>8.1f}"
                        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=100)
    asyncio.run(main(parser.parse_args().rounds))
