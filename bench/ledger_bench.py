#!/usr/bin/env python3
"""The consent ledger at scale, beside hand-written SQL on the same machine.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python bench/ledger_bench.py

Creates (and drops) the database `hub_bench_ledger`. Prints:
- appends per second with 8 concurrent writers, one transaction per event (the hub's path:
  advisory lock, index probe, canonical leaf, insert, NOTIFY) vs. a bare asyncpg INSERT under
  the same lock;
- the time to integrate the Merkle tree for the log and sign a checkpoint;
- inclusion and consistency proofs on the full log (median and p99 over random requests);
- `hub ledger export` and `hub ledger verify` of the whole log: wall time and peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scratch import pct, scratch_database

from hub.config import Settings
from hub.db.engine import build_engine, build_sessionmaker
from hub.ledger import merkle
from hub.ledger.events import EventType, NewEvent
from hub.ledger.repository import LEDGER_LOCK_KEY, LedgerRepository
from hub.ledger.service import LedgerService
from hub.ledger.signing import LedgerKey

DB = "hub_bench_ledger"


def event() -> NewEvent:
    return NewEvent(
        EventType.GRANTED, uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), ("SUMMARY",)
    )


async def appends(settings: Settings, writers: int, each: int) -> None:
    engine = build_engine(settings)
    sessions = build_sessionmaker(engine)

    async def writer() -> None:
        for _ in range(each):
            async with sessions() as s, s.begin():
                await LedgerRepository(s).append_batch([event()])

    t0 = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(writers)))
    hub_rate = writers * each / (time.perf_counter() - t0)
    await engine.dispose()

    pool = await asyncpg.create_pool(settings.libpq_url, min_size=writers, max_size=writers)
    # the floor appends to a scratch copy of the table, so the real log stays verifiable
    await pool.execute("CREATE TABLE floor_log (LIKE consent_log INCLUDING ALL)")

    async def floor_writer() -> None:
        async with pool.acquire() as conn:
            for _ in range(each):
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock($1)", LEDGER_LOCK_KEY)
                    seq = await conn.fetchval(
                        "SELECT coalesce(max(seq) + 1, 0) FROM (SELECT seq FROM floor_log ORDER BY seq DESC LIMIT 1) s"
                    )
                    await conn.execute(
                        "INSERT INTO floor_log (seq, event_id, event_type, at, leaf, leaf_hash) VALUES ($1, $2, 'GRANTED', clock_timestamp(), 'x', 'y')",
                        seq,
                        uuid.uuid4(),
                    )

    t0 = time.perf_counter()
    await asyncio.gather(*(floor_writer() for _ in range(writers)))
    floor_rate = writers * each / (time.perf_counter() - t0)
    await pool.close()
    print(
        f"appends, {writers} writers: hub {hub_rate:.0f}/s, SQL floor {floor_rate:.0f}/s, hub/floor {hub_rate / floor_rate:.2f}"
    )


async def bulk(settings: Settings, total: int) -> None:
    engine = build_engine(settings)
    sessions = build_sessionmaker(engine)
    t0 = time.perf_counter()
    async with sessions() as s:
        have = await LedgerRepository(s).head() + 1
    while have < total:
        n = min(20_000, total - have)
        async with sessions() as s, s.begin():
            await LedgerRepository(s).append_batch([event() for _ in range(n)])
        have += n
        print(f"  loaded {have:,}", end="\r", file=sys.stderr)
    print(f"loaded {total:,} events in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    await engine.dispose()


async def tree_and_proofs(settings: Settings, total: int, samples: int) -> None:
    engine = build_engine(settings)
    sessions = build_sessionmaker(engine)
    key = LedgerKey.load_or_create(settings.ledger_key_file, settings.ledger_origin)
    t0 = time.perf_counter()
    async with sessions() as s, s.begin():
        made = await LedgerService(s).checkpoint(key, settings.ledger_origin)
    assert made is not None
    assert made.tree_size == total
    print(
        f"integrate the tree for {total:,} events and sign a checkpoint: {time.perf_counter() - t0:.1f} s"
    )
    rng = random.Random(1)
    inclusion, consistency = [], []
    async with sessions() as s:
        service = LedgerService(s)
        root = made.root_hash
        for _ in range(samples):
            seq = rng.randrange(total)
            t0 = time.perf_counter()
            entry, proof = await service.inclusion_proof(seq, total)
            inclusion.append((time.perf_counter() - t0) * 1e3)
            assert merkle.verify_inclusion(seq, total, entry.leaf_hash, proof.path, root)
            old = rng.randrange(1, total)
            t0 = time.perf_counter()
            await service.consistency_proof(old, total)
            consistency.append((time.perf_counter() - t0) * 1e3)
    print(
        f"proofs on {total:,} events: inclusion median {statistics.median(inclusion):.1f} ms, p99 {pct(inclusion, 0.99):.1f} ms; "
        f"consistency median {statistics.median(consistency):.1f} ms, p99 {pct(consistency, 0.99):.1f} ms"
    )
    await engine.dispose()


def run_measured(
    command: list[str], env: dict[str, str]
) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Wall time and peak resident memory (MB) of one command, polled every 50 ms."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = 0
    watched = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            peak = max(peak, watched.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    out, err = proc.communicate()
    return (
        time.perf_counter() - t0,
        peak / 2**20,
        subprocess.CompletedProcess(command, proc.returncode, out, err),
    )


def export_and_verify(settings: Settings) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": settings.libpq_url,
        "HUB_LEDGER_KEY_FILE": str(settings.ledger_key_file),
        "HUB_SIGNING_KEY_FILE": str(settings.signing_key_file),
    }
    hub = [sys.executable, "-m", "hub", "ledger"]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ledger.jsonl"
        took, peak, _ = run_measured([*hub, "export", "--out", str(out)], env)
        print(
            f"export: {took:.1f} s, peak memory {peak:.0f} MB, file {out.stat().st_size / 2**20:.0f} MB"
        )
        key = subprocess.run(
            [*hub, "public-key"], env=env, check=True, capture_output=True, text=True
        ).stdout.strip()
        took, peak, result = run_measured([*hub, "verify", str(out), "--public-key", key], env)
        print(
            f"verify: {took:.1f} s, peak memory {peak:.0f} MB, exit {result.returncode}: {result.stdout.strip()[:160]}"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--each", type=int, default=500)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    async with scratch_database(DB, keep=args.keep) as settings:
        await appends(settings, args.writers, args.each)
        await bulk(settings, args.events)
        await tree_and_proofs(settings, args.events, args.samples)
        await asyncio.to_thread(export_and_verify, settings)


if __name__ == "__main__":
    asyncio.run(main())
