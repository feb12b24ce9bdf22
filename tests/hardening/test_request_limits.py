"""Requests are bounded before they cost anything: estimated cost, one operation, no batches,
body size, a per-client budget and cap, a deadline and a statement timeout; the process stays
healthy after each refusal."""

from __future__ import annotations

import asyncio
import glob
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from graphql import parse
from starlette.applications import Starlette

from hub.app import create_app
from hub.config import Settings
from hub.directory.models import Role
from hub.graphql.cost import estimate
from hub.ledger.repository import LEDGER_LOCK_KEY
from hub.ops.throttle import BURST_SECONDS
from tests.conftest import _libpq, make_settings
from tests.helpers import Actors, error_codes, gql, grant

NESTED = (
    "{ factories(first: 100) { edges { node { assessments(first: 100) { edges { node "
    "{ findings { questionCode comment } } } } } } } }"
)
GRANT = "mutation($b: ID!) { grantConsent(buyerId: $b, scopes: [SUMMARY]) { id } }"


@pytest.fixture
async def tight(database_url: str, key_file: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        make_settings(
            database_url,
            key_file,
            HUB_RATE_BUDGET="1000",
            HUB_MAX_BODY="3000",
            HUB_REQUEST_TIMEOUT="2",
            HUB_STATEMENT_TIMEOUT="5",
            HUB_RESPONSE_CACHE_ENTRIES="0",
        )
    )
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
            yield client


async def test_a_costly_query_is_refused_before_it_runs(
    http: httpx.AsyncClient, actors: Actors
) -> None:
    body = await gql(http, NESTED, actor=actors[Role.BUYER])
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
    assert "fewer items" in body["errors"][0]["message"]
    # the same shape with small pages is fine
    small = await gql(http, NESTED.replace("first: 100", "first: 5"), actor=actors[Role.AUDITOR])
    assert "QUERY_TOO_COMPLEX" not in error_codes(small)  # it ran (into consent, as it should)
    # a variable counts like a literal
    by_variable = await gql(
        http,
        "query($n: Int) { factories(first: $n) { edges { node { assessments(first: $n) "
        "{ edges { node { findings { questionCode } } } } } } } }",
        {"n": 100},
        actor=actors[Role.BUYER],
    )
    assert error_codes(by_variable) == ["QUERY_TOO_COMPLEX"]


def test_every_published_operation_fits_the_default_limit(settings: Settings) -> None:
    from hub.graphql.schema import build_schema

    schema = build_schema(settings)._schema  # type: ignore[attr-defined]
    files = glob.glob(str(Path(__file__).resolve().parents[2] / "schema/operations/*.graphql"))
    assert files
    for path in files:
        document = parse(Path(path).read_text())
        cost = estimate(schema, document, None, {"first": 100})
        assert 0 < cost <= settings.max_cost, (path, cost)


async def test_one_operation_per_request_and_no_batches(
    http: httpx.AsyncClient, actors: Actors
) -> None:
    two = await http.post(
        "/graphql",
        json={
            "query": "query A { viewer { id } } query B { viewer { role } }",
            "operationName": "A",
        },
        headers=actors[Role.BUYER].headers,
    )
    assert error_codes(two.json()) == ["BAD_USER_INPUT"]
    batch = await http.post(
        "/graphql",
        content=b'[{"query": "{ viewer { id } }"}, {"query": "{ viewer { id } }"}]',
        headers={**actors[Role.BUYER].headers, "content-type": "application/json"},
    )
    assert batch.status_code == 400
    assert error_codes(batch.json()) == ["BAD_USER_INPUT"]


async def test_a_body_over_the_limit_is_refused(tight: httpx.AsyncClient, actors: Actors) -> None:
    padding = " " * 4000
    r = await tight.post(
        "/graphql",
        json={"query": "{ viewer { id } }" + padding},
        headers=actors[Role.BUYER].headers,
    )
    assert r.status_code == 413
    assert error_codes(r.json()) == ["BAD_USER_INPUT"]
    ok = await gql(tight, "{ viewer { id } }", actor=actors[Role.BUYER])
    assert "errors" not in ok


async def test_a_spent_budget_answers_429_with_retry_after(
    tight: httpx.AsyncClient, actors: Actors
) -> None:
    query = {"query": "{ factories(first: 50) { edges { node { id name } } } }"}  # costs 201
    buyer, other = actors[Role.BUYER], actors[Role.AUDITOR]
    statuses = []
    for _ in range(5):
        r = await tight.post("/graphql", json=query, headers=buyer.headers)
        statuses.append(r.status_code)
    # 1,000 points a minute, paced: at most 334 in any 10 s, or one dearer request
    assert statuses == [200, 429, 429, 429, 429]
    assert int(r.headers["retry-after"]) >= 1
    assert error_codes(r.json()) == ["RATE_LIMITED"]
    # another client's budget is its own
    assert (await tight.post("/graphql", json=query, headers=other.headers)).status_code == 200


async def test_a_request_past_its_deadline_is_stopped_and_nothing_is_saved(
    tight: httpx.AsyncClient, actors: Actors, database_url: str
) -> None:
    factory, buyer = actors[Role.FACTORY], actors[Role.BUYER]
    blocker = await asyncpg.connect(_libpq(database_url))
    try:
        # hold the ledger lock: the grant waits for it past the 2 s deadline
        async with blocker.transaction():
            await blocker.execute("SELECT pg_advisory_xact_lock($1)", LEDGER_LOCK_KEY)
            r = await tight.post(
                "/graphql",
                json={"query": GRANT, "variables": {"b": str(buyer.org.id)}},
                headers=factory.headers,
            )
        assert r.status_code == 503
        assert "stopped" in r.json()["errors"][0]["message"]
        consents = await blocker.fetchval("SELECT count(*) FROM consents")
        assert consents == 0
    finally:
        await blocker.close()
    # the process is healthy: the same grant goes through now
    assert (await grant(tight, factory, buyer, ["SUMMARY"]))["id"]


async def test_statement_timeout_ends_a_stuck_query(
    database_url: str, key_file: Path, actors: Actors
) -> None:
    app: Starlette = create_app(
        make_settings(database_url, key_file, HUB_STATEMENT_TIMEOUT="0.5", HUB_REQUEST_TIMEOUT="10")
    )
    factory, buyer = actors[Role.FACTORY], actors[Role.BUYER]
    blocker = await asyncpg.connect(_libpq(database_url))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
            try:
                async with blocker.transaction():
                    await blocker.execute("SELECT pg_advisory_xact_lock($1)", LEDGER_LOCK_KEY)
                    body: dict[str, Any] = await gql(
                        http, GRANT, {"b": str(buyer.org.id)}, actor=factory
                    )
                assert error_codes(body) == ["INTERNAL_SERVER_ERROR"]
                assert "statement" not in str(body).lower()  # masked: no SQL, no driver
            finally:
                await blocker.close()
            assert (await grant(http, factory, buyer, ["SUMMARY"]))["id"]


async def test_no_field_suggestions_in_production(
    database_url: str, key_file: Path, actors: Actors, http: httpx.AsyncClient
) -> None:
    typo = "{ factorie { totalCount } }"
    dev = await gql(http, typo, actor=actors[Role.BUYER])
    assert "Did you mean" in dev["errors"][0]["message"]
    app = create_app(make_settings(database_url, key_file, HUB_PRODUCTION="1"))
    try:
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://h") as prod:
                body = await gql(prod, typo, actor=actors[Role.BUYER])
        assert error_codes(body) == ["BAD_USER_INPUT"]
        assert "Did you mean" not in body["errors"][0]["message"]
    finally:
        create_app(make_settings(database_url, key_file))  # suggestions back for other tests
    await asyncio.sleep(0)


async def test_a_budget_is_paced_a_whole_minute_cannot_go_in_one_burst(
    database_url: str, key_file: Path, actors: Actors
) -> None:
    # 6,000 points a minute, so at most 2,000 in any 10 s: a flood that starts spends a third
    # of its minute at once, not all of it while holding every worker
    app = create_app(
        make_settings(
            database_url,
            key_file,
            HUB_RATE_BUDGET="6000",
            HUB_RESPONSE_CACHE_ENTRIES="0",
        )
    )
    query = {"query": "{ factories(first: 50) { edges { node { id name } } } }"}  # costs 201
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
            buyer = actors[Role.BUYER]
            # the limiter's 10 s windows are aligned to the clock, and a sliding-window count
            # lets the previous window's points fade after a boundary: the burst (two refusals
            # wait a second each) starts early in a window, so no boundary falls inside it
            into_window = time.time() % BURST_SECONDS
            if into_window > BURST_SECONDS / 2:
                await asyncio.sleep(BURST_SECONDS - into_window + 0.05)
            statuses = []
            for _ in range(11):
                r = await http.post("/graphql", json=query, headers=buyer.headers)
                statuses.append(r.status_code)
            assert statuses == [200] * 9 + [429] * 2
            assert 1 <= int(r.headers["retry-after"]) <= 10
            assert "retry in" in r.json()["errors"][0]["message"]


async def test_the_dearest_request_still_passes_a_paced_budget() -> None:
    from hub.ops.throttle import MinuteBudget

    # a third of 6,000 is 2,000, but a request may cost up to the whole minute: alone in its
    # 10 s it passes, and takes that whole share
    budget = MinuteBudget(6000, 1, paced=True)
    assert await budget.take("a", 2500) is None
    wait = await budget.take("a", 1)
    assert wait is not None
    assert 1 <= wait <= 10
    assert await budget.take("a", 6000) is not None  # the minute's own points are still counted
    assert await budget.take("b", 1) is None  # keys are apart
    # unpaced budgets (the token endpoint's) take the whole minute at once
    plain = MinuteBudget(6000, 1)
    assert await plain.take("a", 6000) is None
    assert await plain.spent("a") is not None
