#!/usr/bin/env python3
"""Notifications under load, through real `hub serve` processes:

1. commit-to-webhook latency: events committed at a steady rate (default 100/s for 30 s, each
   in its own transaction, as the hub's services write them) to a buyer with one webhook; a
   local receiver notes when each arrives. Prints p50/p95/p99/max from the commit's return to
   the delivery's arrival, and how many arrived.
2. a slow receiver (5 s per delivery) vs. ordinary queries on the same process.
3. open subscriptions vs. ordinary queries: the p50/p95/p99 of a plain query (8 concurrent
   clients, response cache off so each one executes) on one server process, first with no
   WebSocket open, then with 1,000 open `supplierUpdates` subscriptions (100 buyers), idle and
   then with 20 events/s fanned out to them.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python bench/events_bench.py

Creates (and afterwards drops) the database `hub_bench_events`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scratch import free_port, hub_process, pct, scratch_database

from hub.auth import keys as signing_keys
from hub.auth.server import ClientRecord
from hub.auth.tokens import HubTokenGenerator
from hub.config import Settings
from hub.db.engine import build_engine, build_sessionmaker
from hub.directory.models import Role
from hub.directory.service import DirectoryService, NewOrganization
from hub.events.outbox import emit

DB = "hub_bench_events"
QUERY = {"query": "{ factories(first: 20) { edges { node { id name country } } } }"}


async def make_buyers(settings: Settings, count: int) -> tuple[list[uuid.UUID], list[str]]:
    engine = build_engine(settings)
    ids = []
    async with build_sessionmaker(engine)() as s, s.begin():
        directory = DirectoryService(s)
        for i in range(count):
            org, _ = await directory.create_organization(
                NewOrganization(role=Role.BUYER, name=f"Bench Buyer {i}", country="DE")
            )
            ids.append(org.id)
        for i in range(40):
            await directory.create_organization(
                NewOrganization(role=Role.FACTORY, name=f"Bench Factory {i}", country="KH")
            )
    await engine.dispose()
    generator = HubTokenGenerator(
        settings, signing_keys.load_or_create(settings.signing_key_file), lifetime=3600
    )
    tokens = [
        generator(
            grant_type="client_credentials",
            client=ClientRecord(f"bench-{i}", "", org, Role.BUYER, False),
            include_refresh_token=False,
        )["access_token"]
        for i, org in enumerate(ids)
    ]
    return ids, tokens


class Emitter:
    """Commits one event per transaction at a steady rate; remembers when each commit returned."""

    def __init__(self, settings: Settings) -> None:
        self.engine = build_engine(settings)
        self.sessions = build_sessionmaker(self.engine)
        self.committed: dict[int, float] = {}

    async def run(self, buyers: list[uuid.UUID], rate: float, seconds: float) -> None:
        start = time.perf_counter()
        n = int(rate * seconds)
        for i in range(n):
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            async with self.sessions() as s, s.begin():
                await emit(
                    s,
                    "consent.granted",
                    factory_id=None,
                    parties=(random.choice(buyers),),
                    data={"benchSeq": i},
                )
            self.committed[i] = time.perf_counter()

    async def close(self) -> None:
        await self.engine.dispose()


@contextlib.asynccontextmanager
async def local_receiver(app: Any) -> AsyncIterator[str]:
    """An ASGI receiver served on a free local port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, port=port, lifespan="off", log_level="warning", access_log=False)
    )
    serving = asyncio.create_task(server.serve())
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def register_webhook(base: str, token: str, url: str) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        r = await http.post(
            "/graphql",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "query": "mutation($u: String!) { registerWebhook(url: $u, "
                'events: ["consent.granted"]) { id } }',
                "variables": {"u": url},
            },
        )
    assert "errors" not in r.json(), r.text


async def webhook_latency(
    settings: Settings, rate: float, seconds: float, concurrency: int | None = None
) -> None:
    buyers, tokens = await make_buyers(settings, 1)
    arrived: dict[int, float] = {}
    all_in = asyncio.Event()

    async def receiver(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        arrived.setdefault(json.loads(body)["data"]["benchSeq"], time.perf_counter())
        all_in.set()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    extra = {"HUB_WEBHOOK_CONCURRENCY": str(concurrency)} if concurrency else {}
    async with (
        local_receiver(receiver) as receiving,
        hub_process(settings, workers=2, **extra) as (base, _),
    ):
        await register_webhook(base, tokens[0], receiving + "/hook")
        emitter = Emitter(settings)
        await emitter.run(buyers, rate, seconds)
        deadline = time.perf_counter() + 30
        while len(arrived) < len(emitter.committed) and time.perf_counter() < deadline:
            all_in.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(all_in.wait(), 1)
        await emitter.close()
    conn = await asyncpg.connect(settings.libpq_url)
    try:
        for row in await conn.fetch(
            "SELECT attempts, left(last_error, 100) AS error, count(*) FROM webhook_deliveries"
            " WHERE attempts > 1 OR status <> 'DELIVERED' GROUP BY 1, 2 ORDER BY 3 DESC"
        ):
            print(f"  {row['count']} deliveries took {row['attempts']} attempts: {row['error']}")
    finally:
        await conn.close()
    latencies = [(arrived[i] - t) * 1e3 for i, t in emitter.committed.items() if i in arrived]
    print(
        f"webhooks, {rate:g} events/s for {seconds:g} s: {len(arrived)}/{len(emitter.committed)}"
        f" delivered; commit to arrival p50 {pct(latencies, 0.5):.0f} ms, p95"
        f" {pct(latencies, 0.95):.0f} ms, p99 {pct(latencies, 0.99):.0f} ms, max"
        f" {max(latencies):.0f} ms"
    )


async def query_latencies(base: str, token: str, count: int, clients: int = 8) -> list[float]:
    times: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:

        async def client(n: int) -> None:
            for _ in range(n):
                t0 = time.perf_counter()
                r = await http.post("/graphql", json=QUERY)
                times.append((time.perf_counter() - t0) * 1e3)
                assert r.status_code == 200, r.text

        await asyncio.gather(*(client(count // clients) for _ in range(clients)))
    return times


async def open_subscription(base: str, token: str) -> ClientConnection:
    ws = await connect(
        base.replace("http://", "ws://") + "/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        additional_headers={"Authorization": f"Bearer {token}"},
    )
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    await ws.send(
        json.dumps(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": "subscription { supplierUpdates { eventId type } }"},
            }
        )
    )
    return ws


async def drain(ws: ClientConnection, counter: list[int]) -> None:
    async for _ in ws:
        counter[0] += 1


async def subscriptions_vs_queries(settings: Settings, sockets: int, requests: int) -> None:
    buyers, tokens = await make_buyers(settings, 100)

    def line(label: str, times: list[float]) -> None:
        print(
            f"  {label:<38} p50 {pct(times, 0.5):6.1f} ms  p95 {pct(times, 0.95):6.1f} ms"
            f"  p99 {pct(times, 0.99):6.1f} ms"
        )

    async with hub_process(settings, workers=1, HUB_RESPONSE_CACHE_ENTRIES="0") as (base, _):
        await query_latencies(base, tokens[0], 1500)  # warm-up
        print(f"ordinary queries ({requests} requests, 8 clients, one server process):")
        baseline = await query_latencies(base, tokens[0], requests)
        line("no subscriptions", baseline)
        t0 = time.perf_counter()
        opened = []
        for i in range(sockets):
            opened.append(await open_subscription(base, tokens[i % len(tokens)]))
        print(f"  ({sockets} subscriptions opened in {time.perf_counter() - t0:.1f} s)")
        received = [0]
        readers = [asyncio.create_task(drain(ws, received)) for ws in opened]
        idle = await query_latencies(base, tokens[0], requests)
        line(f"{sockets} idle subscriptions", idle)
        emitter = Emitter(settings)
        stream = asyncio.create_task(emitter.run(buyers, 20, 3600))
        busy = await query_latencies(base, tokens[0], requests)
        stream.cancel()
        line(f"{sockets} subscriptions, 20 events/s", busy)
        print(f"  ({received[0]} events reached subscribers)")
        for task in readers:
            task.cancel()
        for ws in opened:
            await ws.close()
        await emitter.close()
        await asyncio.sleep(1)
        again = await query_latencies(base, tokens[0], requests)
        line("no subscriptions (again, after)", again)
        # the baseline brackets the runs with subscriptions: the better of the two
        floor = min(pct(baseline, 0.99), pct(again, 0.99))
        for ratio_label, times in (("idle", idle), ("with events", busy)):
            print(f"  p99 {ratio_label}: {pct(times, 0.99) / floor:.2f}x the baseline's")


async def slow_receiver(settings: Settings, requests: int) -> None:
    """Webhooks to a receiver that answers after 5 s (timeout 10 s), 50 events/s: the API's
    latency with and without that backlog, on one server process."""
    buyers, tokens = await make_buyers(settings, 1)
    answered = [0]

    async def receiver(scope: dict[str, Any], receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass
        await asyncio.sleep(5)
        answered[0] += 1
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async with (
        local_receiver(receiver) as receiving,
        hub_process(settings, workers=1, HUB_RESPONSE_CACHE_ENTRIES="0") as (base, _),
    ):
        await register_webhook(base, tokens[0], receiving + "/slow")
        await query_latencies(base, tokens[0], 1500)  # warm-up
        quiet = await query_latencies(base, tokens[0], requests)
        emitter = Emitter(settings)
        stream = asyncio.create_task(emitter.run(buyers, 50, 3600))
        await asyncio.sleep(6)  # the backlog builds up: every slot waits on the receiver
        slowed = await query_latencies(base, tokens[0], requests)
        stream.cancel()
        await emitter.close()
    print(
        "a receiver that takes 5 s per delivery, 50 events/s: ordinary queries p99"
        f" {pct(quiet, 0.99):.1f} ms before, {pct(slowed, 0.99):.1f} ms with the backlog"
        f" (p50 {pct(quiet, 0.5):.1f} -> {pct(slowed, 0.5):.1f} ms); {answered[0]} deliveries"
        " answered meanwhile (4 in flight at a time)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, help="HUB_WEBHOOK_CONCURRENCY")
    parser.add_argument("--only", choices=("webhooks", "slow", "subscriptions"))
    args = parser.parse_args()
    if args.only in (None, "webhooks"):
        async with scratch_database(DB) as settings:
            await webhook_latency(settings, args.rate, args.seconds, args.concurrency)
    if args.only in (None, "slow"):
        async with scratch_database(DB) as settings:
            await slow_receiver(settings, args.requests)
    if args.only in (None, "subscriptions"):
        async with scratch_database(DB) as settings:
            await subscriptions_vs_queries(settings, args.sockets, args.requests)


if __name__ == "__main__":
    asyncio.run(main())
