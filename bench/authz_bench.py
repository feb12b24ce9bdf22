#!/usr/bin/env python3
"""Consent enforcement at scale: 100,000 grants, measured in this process and through a real
`hub serve`, each beside a hand-written SQL floor on the same data.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python bench/authz_bench.py

Creates (and afterwards drops) the database `hub_bench_authz` on that server. Prints:
- a single report-access check (Casbin, g2 links) vs. the SQL floor (one indexed lookup);
- the per-request catch-up when nothing changed (one ledger-head query);
- the list filter (factories a buyer may read) for a buyer holding 500 grants;
- revokeConsent end to end over HTTP (p50, p99) vs. the same transaction in hand-written SQL;
- resident memory of a server process holding the 100,000 links.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import psutil
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scratch import pct, scratch_database

from hub.auth import keys as signing_keys
from hub.auth.principal import Principal
from hub.auth.server import ClientRecord
from hub.auth.tokens import HubTokenGenerator
from hub.authz.projection import report_object
from hub.authz.service import Authorizer
from hub.config import Settings
from hub.consent.models import Consent, ConsentStatus
from hub.db.engine import build_engine, build_sessionmaker
from hub.directory.models import Factory, Organization, Role
from hub.ledger.events import EventType, NewEvent
from hub.ledger.repository import LedgerRepository

DB = "hub_bench_authz"


async def seed(
    settings: Settings, buyers: int, factories: int
) -> tuple[list[uuid.UUID], list[tuple[uuid.UUID, uuid.UUID]]]:
    engine = build_engine(settings)
    sessions = build_sessionmaker(engine)
    buyer_ids = [uuid.uuid4() for _ in range(buyers)]
    owners = [uuid.uuid4() for _ in range(factories)]
    factory_ids = [uuid.uuid4() for _ in range(factories)]
    async with sessions() as s, s.begin():
        await s.execute(
            insert(Organization),
            [{"id": b, "role": Role.BUYER, "name": f"Buyer {i}"} for i, b in enumerate(buyer_ids)],
        )
        await s.execute(
            insert(Organization),
            [{"id": o, "role": Role.FACTORY, "name": f"Factory {i}"} for i, o in enumerate(owners)],
        )
        await s.execute(
            insert(Factory),
            [
                {
                    "id": f,
                    "hub_id": f"CH-B{i:07d}",
                    "name": f"Factory {i}",
                    "country": "KH",
                    "claimed_by_org_id": o,
                }
                for i, (f, o) in enumerate(zip(factory_ids, owners, strict=True))
            ],
        )
    pairs = [(f, b) for f in factory_ids for b in buyer_ids]
    for start in range(0, len(pairs), 10_000):
        chunk = pairs[start : start + 10_000]
        consent_ids = [uuid.uuid4() for _ in chunk]
        async with sessions() as s, s.begin():
            entries = await LedgerRepository(s).append_batch(
                [
                    NewEvent(EventType.GRANTED, cid, f, b, f, ("SUMMARY", "FINDINGS"))
                    for cid, (f, b) in zip(consent_ids, chunk, strict=True)
                ]
            )
            await s.execute(
                insert(Consent),
                [
                    {
                        "id": cid,
                        "factory_id": f,
                        "buyer_org_id": b,
                        "status": ConsentStatus.GRANTED,
                        "scopes": ["FINDINGS", "SUMMARY"],
                        "ledger_seq": e.seq,
                        "granted_at": e.at,
                    }
                    for cid, (f, b), e in zip(consent_ids, chunk, entries, strict=True)
                ],
            )
        print(f"  seeded {start + len(chunk):,} grants", file=sys.stderr)
    await engine.dispose()
    return owners, pairs


async def in_process(settings: Settings, pairs: list[tuple[uuid.UUID, uuid.UUID]]) -> None:
    engine = build_engine(settings)
    sessions = build_sessionmaker(engine)
    authorizer = Authorizer()
    t0 = time.perf_counter()
    async with sessions() as s:
        applied = await authorizer.catch_up(s)
    print(f"startup catch-up: {applied:,} ledger events in {time.perf_counter() - t0:.2f} s")

    factory, buyer = pairs[len(pairs) // 2]
    who = Principal(buyer, Role.BUYER, "bench", "b", 0)
    obj = report_object(factory, "FINDINGS")
    assert authorizer.check_report(who, obj, None)
    n = 20_000
    t0 = time.perf_counter()
    for _ in range(n):
        authorizer.check_report(who, obj, None)
    check_us = (time.perf_counter() - t0) / n * 1e6

    conn = await asyncpg.connect(settings.libpq_url)
    floor_sql = "SELECT 1 FROM consents WHERE factory_id = $1 AND buyer_org_id = $2 AND status = 'GRANTED' AND $3 = ANY(scopes)"
    stmt = await conn.prepare(floor_sql)
    m = 2_000
    t0 = time.perf_counter()
    for _ in range(m):
        await stmt.fetchval(factory, buyer, "FINDINGS")
    floor_us = (time.perf_counter() - t0) / m * 1e6
    await conn.close()
    print(
        f"single check: {check_us:.1f} µs (Casbin over {len(pairs):,} links); SQL floor {floor_us:.1f} µs; hub/floor time {check_us / floor_us:.2f}"
    )

    t0 = time.perf_counter()
    for _ in range(200):
        readable = authorizer.buyer_grants(who)
    print(
        f"list filter: {len(readable)} factories for one buyer in {(time.perf_counter() - t0) / 200 * 1e3:.2f} ms"
    )

    times = []
    async with sessions() as s:
        for _ in range(500):
            t0 = time.perf_counter()
            await authorizer.catch_up(s)
            times.append((time.perf_counter() - t0) * 1e3)
    print(
        f"catch-up with nothing new: median {statistics.median(times):.3f} ms, p99 {pct(times, 0.99):.3f} ms (one head query)"
    )
    await engine.dispose()


async def through_server(
    settings: Settings,
    owners: list[uuid.UUID],
    pairs: list[tuple[uuid.UUID, uuid.UUID]],
    rounds: int,
) -> None:
    port = 5077
    env = {
        **os.environ,
        "DATABASE_URL": settings.libpq_url,
        "HUB_SIGNING_KEY_FILE": str(settings.signing_key_file),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        "serve",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            t0 = time.perf_counter()
            while True:
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
            print(f"server ready after {time.perf_counter() - t0:.1f} s")
            rss = psutil.Process(proc.pid).memory_info().rss / 2**20
            generator = HubTokenGenerator(
                settings, signing_keys.load_or_create(settings.signing_key_file), lifetime=3600
            )
            factory, buyer = pairs[0]
            owner = owners[0]
            record = ClientRecord("bench", "", owner, Role.FACTORY, False)
            token = generator(
                grant_type="client_credentials", client=record, include_refresh_token=False
            )["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            consents = await http.post(
                "/graphql",
                headers=headers,
                json={
                    "query": "query($b: ID!) { consents(filter: {buyerId: $b}) { edges { node { id } } } }",
                    "variables": {"b": str(buyer)},
                },
            )
            consent_id = consents.json()["data"]["consents"]["edges"][0]["node"]["id"]
            revoke_q = {
                "query": "mutation($c: ID!) { revokeConsent(consentId: $c) { status } }",
                "variables": {"c": consent_id},
            }
            grant_q = {
                "query": "mutation($b: ID!) { grantConsent(buyerId: $b, scopes: [SUMMARY, FINDINGS]) { status } }",
                "variables": {"b": str(buyer)},
            }
            times = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                r = await http.post("/graphql", headers=headers, json=revoke_q)
                times.append((time.perf_counter() - t0) * 1e3)
                assert r.json()["data"]["revokeConsent"]["status"] == "REVOKED", r.text
                await http.post("/graphql", headers=headers, json=grant_q)
            rss_after = psutil.Process(proc.pid).memory_info().rss / 2**20
    finally:
        proc.terminate()
        await proc.wait()

    conn = await asyncpg.connect(settings.libpq_url)
    floor = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        async with conn.transaction():
            await conn.fetchrow(
                "SELECT id FROM consents WHERE factory_id = $1 AND buyer_org_id = $2 FOR UPDATE",
                factory,
                buyer,
            )
            await conn.execute("SELECT pg_advisory_xact_lock($1)", 0x43484C4544474552)
            seq = await conn.fetchval("SELECT coalesce(max(seq) + 1, 0) FROM consent_log")
            await conn.execute(
                "INSERT INTO consent_log (seq, event_id, event_type, at, factory_id, buyer_org_id, leaf, leaf_hash) "
                "VALUES ($1, $2, 'REVOKED', clock_timestamp(), $3, $4, 'x', 'y')",
                seq,
                uuid.uuid4(),
                factory,
                buyer,
            )
            await conn.execute(
                "UPDATE consents SET status = 'REVOKED', ledger_seq = $3 WHERE factory_id = $1 AND buyer_org_id = $2",
                factory,
                buyer,
                seq,
            )
        floor.append((time.perf_counter() - t0) * 1e3)
    await conn.close()
    p50, p99 = statistics.median(times), pct(times, 0.99)
    print(
        f"revokeConsent over HTTP ({rounds} rounds): p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
        f"SQL floor p50 {statistics.median(floor):.2f} ms, p99 {pct(floor, 0.99):.2f} ms"
    )
    print(
        f"server memory (RSS) with {len(pairs):,} links: {rss:.0f} MB at ready, {rss_after:.0f} MB after the run"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=200)
    parser.add_argument("--factories", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    async with scratch_database(DB, keep=args.keep) as settings:
        owners, pairs = await seed(settings, args.buyers, args.factories)
        print(f"{len(pairs):,} grants ({args.buyers} buyers x {args.factories} factories)")
        await in_process(settings, pairs)
        await through_server(settings, owners, pairs, args.rounds)


if __name__ == "__main__":
    asyncio.run(main())
