#!/usr/bin/env python3
"""One buyer floods, another keeps working: the quiet buyer's latency with and without the
flood, through a real `hub serve` with the default per-client budget and cap.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python bench/flood_bench.py

The quiet buyer sends a plain query 10 times a second (well within its budget) for --seconds;
the flooding buyer runs 64 clients of a heavier query without pause, retrying at once when
refused. Prints the quiet
buyer's p50/p95/p99 alone and during the flood, the ratio of the p95s (target: at most 1.2),
and how the flood's requests were answered. Creates and drops `hub_bench_flood`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from events_bench import make_buyers
from scratch import hub_process, pct, scratch_database

DB = "hub_bench_flood"
QUIET = {"query": "{ factories(first: 20) { edges { node { id name country } } } }"}
HEAVY = {"query": "{ factories(first: 100) { edges { node { id name address country osId } } } }"}


async def run_clients(
    base: str, token: str, query: dict[str, str], clients: int, seconds: float
) -> tuple[list[float], Counter[int]]:
    times: list[float] = []
    statuses: Counter[int] = Counter()
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60, limits=limits) as http:
        end = time.perf_counter() + seconds

        async def client() -> None:
            while time.perf_counter() < end:
                t0 = time.perf_counter()
                r = await http.post("/graphql", json=query)
                times.append((time.perf_counter() - t0) * 1e3)
                statuses[r.status_code] += 1

        await asyncio.gather(*(client() for _ in range(clients)))
    return times, statuses


async def paced(
    base: str, token: str, rate: float, seconds: float
) -> tuple[list[float], Counter[int]]:
    """One request every 1/rate s, each timed; a slow answer delays no later start."""
    times: list[float] = []
    statuses: Counter[int] = Counter()
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as http:

        async def one() -> None:
            t0 = time.perf_counter()
            r = await http.post("/graphql", json=QUIET)
            times.append((time.perf_counter() - t0) * 1e3)
            statuses[r.status_code] += 1

        start = time.perf_counter()
        tasks = []
        for i in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
    return times, statuses


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--flood-clients", type=int, default=64)
    args = parser.parse_args()
    async with scratch_database(DB) as settings:
        _, tokens = await make_buyers(settings, 2)
        quiet_token, flood_token = tokens
        async with hub_process(settings, workers=args.workers, HUB_RESPONSE_CACHE_ENTRIES="0") as (
            base,
            _,
        ):
            await paced(base, quiet_token, 10, 3)  # warm-up
            alone, _ = await paced(base, quiet_token, 10, args.seconds)
            # the flood from its own process: on one event loop with the quiet client, the
            # flood's client work would delay the quiet client's own measurements
            flood = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--flood",
                base,
                flood_token,
                str(args.flood_clients),
                str(args.seconds + 4),
                stdout=asyncio.subprocess.PIPE,
            )
            await asyncio.sleep(2)
            during, quiet_statuses = await paced(base, quiet_token, 10, args.seconds)
            flood_statuses = (await flood.communicate())[0].decode().strip()
    for label, times in (("alone", alone), ("during the flood", during)):
        print(
            f"quiet buyer {label:<17} {len(times):5d} requests  p50 {pct(times, 0.5):6.1f} ms"
            f"  p95 {pct(times, 0.95):6.1f} ms  p99 {pct(times, 0.99):6.1f} ms"
        )
    print(f"quiet buyer's answers during the flood: {dict(quiet_statuses)}")
    print(f"flooding buyer's answers: {flood_statuses}")
    print(f"p95 during / alone: {pct(during, 0.95) / pct(alone, 0.95):.2f}x (target <= 1.2x)")


async def flood_only(base: str, token: str, clients: int, seconds: float) -> None:
    _, statuses = await run_clients(base, token, HEAVY, clients, seconds)
    print(dict(statuses))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--flood"]:
        base, token, clients, seconds = sys.argv[2:6]
        asyncio.run(flood_only(base, token, int(clients), float(seconds)))
    else:
        asyncio.run(main())
