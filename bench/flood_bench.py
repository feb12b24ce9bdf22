#!/usr/bin/env python3
"""One buyer floods, another keeps working: the quiet buyer's latency with and without the
flood, through a real `hub serve` with the default per-client budget and cap.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python bench/flood_bench.py

The quiet buyer runs 2 clients of a plain query for --seconds; the flooding buyer runs 64
clients of a heavier query without pause, retrying at once when refused. Prints the quiet
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
            await run_clients(base, quiet_token, QUIET, 2, 3)  # warm-up
            alone, _ = await run_clients(base, quiet_token, QUIET, 2, args.seconds)
            flood = asyncio.create_task(
                run_clients(base, flood_token, HEAVY, args.flood_clients, args.seconds + 4)
            )
            await asyncio.sleep(2)
            during, quiet_statuses = await run_clients(base, quiet_token, QUIET, 2, args.seconds)
            _, flood_statuses = await flood
    for label, times in (("alone", alone), ("during the flood", during)):
        print(
            f"quiet buyer {label:<17} {len(times):5d} requests  p50 {pct(times, 0.5):6.1f} ms"
            f"  p95 {pct(times, 0.95):6.1f} ms  p99 {pct(times, 0.99):6.1f} ms"
        )
    print(f"quiet buyer's answers during the flood: {dict(quiet_statuses)}")
    print(f"flooding buyer's answers: {dict(flood_statuses)}")
    print(f"p95 during / alone: {pct(during, 0.95) / pct(alone, 0.95):.2f}x (target <= 1.2x)")


if __name__ == "__main__":
    asyncio.run(main())
