#!/usr/bin/env python3
"""One buyer floods, another keeps working: the quiet buyer's latency with and without the
flood, through a real `hub serve` with the default per-client budget and cap.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python bench/flood_bench.py

Two quiet buyers each send a plain query (cost 101) 5 times a second for --seconds: 30,300
points a minute, well within a budget even when all of a buyer's requests reach one of the two
processes (each holds half of every client's budget); their answers are pooled (400 a phase),
as a p95 of 200 moved by 15 % from run to run on this machine. The flooding buyer, from its
own process, runs 64 clients of a heavier query (cost 701) without pause, retrying at once
when refused; the quiet buyers' second phase starts with the flood, so its first burst counts.
Prints the quiet buyers' p50/p95/p99 alone and during the flood, their slowest answer in each
2 s of the flood, the ratio of the p95s (target: at most 1.2), and how the flood's requests
were answered. Creates and drops `hub_bench_flood`.
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
QUIET_RATE = 5  # requests a second, each quiet buyer
QUIET_BUYERS = 2
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
    """One request every 1/rate s, each timed (in the order sent); a slow answer delays no
    later start."""
    times: list[float] = [0.0] * int(rate * seconds)
    statuses: Counter[int] = Counter()
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as http:

        async def one(i: int) -> None:
            t0 = time.perf_counter()
            r = await http.post("/graphql", json=QUIET)
            times[i] = (time.perf_counter() - t0) * 1e3
            statuses[r.status_code] += 1

        start = time.perf_counter()
        tasks = []
        for i in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
    return times, statuses


async def quiet(
    base: str, tokens: list[str], seconds: float
) -> tuple[list[float], list[float], Counter[int]]:
    """The quiet buyers side by side: all their times, the slowest of each send slot, and
    their statuses."""
    runs = await asyncio.gather(*(paced(base, token, QUIET_RATE, seconds) for token in tokens))
    statuses: Counter[int] = Counter()
    for _, counts in runs:
        statuses.update(counts)
    slowest = [max(slot) for slot in zip(*(times for times, _ in runs), strict=True)]
    return [t for times, _ in runs for t in times], slowest, statuses


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--flood-clients", type=int, default=64)
    args = parser.parse_args()
    async with scratch_database(DB) as settings:
        _, tokens = await make_buyers(settings, QUIET_BUYERS + 1)
        quiet_tokens, flood_token = tokens[:-1], tokens[-1]
        async with hub_process(settings, workers=args.workers, HUB_RESPONSE_CACHE_ENTRIES="0") as (
            base,
            _,
        ):
            await quiet(base, quiet_tokens, 3)  # warm-up
            alone, _, _ = await quiet(base, quiet_tokens, args.seconds)
            # the flood from its own process: on one event loop with the quiet client, the
            # flood's client work would delay the quiet client's own measurements
            flood = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--flood",
                base,
                flood_token,
                str(args.flood_clients),
                str(args.seconds + 1),
                stdout=asyncio.subprocess.PIPE,
            )
            assert flood.stdout is not None
            await flood.stdout.readline()  # "go": its clients start now, burst and all
            during, slowest, quiet_statuses = await quiet(base, quiet_tokens, args.seconds)
            flood_statuses = (await flood.communicate())[0].decode().strip()
    for label, times in (("alone", alone), ("during the flood", during)):
        print(
            f"quiet buyers {label:<17} {len(times):5d} requests  p50 {pct(times, 0.5):6.1f} ms"
            f"  p95 {pct(times, 0.95):6.1f} ms  p99 {pct(times, 0.99):6.1f} ms"
        )
    step = 2 * QUIET_RATE
    per_second = [max(slowest[i : i + step]) for i in range(0, len(slowest), step)]
    print("quiet buyers' slowest answer in each 2 s of the flood (ms):")
    print("  " + " ".join(f"{ms:.0f}" for ms in per_second))
    print(f"quiet buyers' answers during the flood: {dict(quiet_statuses)}")
    print(f"flooding buyer's answers: {flood_statuses}")
    print(f"p95 during / alone: {pct(during, 0.95) / pct(alone, 0.95):.2f}x (target <= 1.2x)")


async def flood_only(base: str, token: str, clients: int, seconds: float) -> None:
    print("go", flush=True)
    _, statuses = await run_clients(base, token, HEAVY, clients, seconds)
    print(dict(statuses))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--flood"]:
        base, token, clients, seconds = sys.argv[2:6]
        asyncio.run(flood_only(base, token, int(clients), float(seconds)))
    else:
        asyncio.run(main())
