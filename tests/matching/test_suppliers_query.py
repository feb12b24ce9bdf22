"""A buyer's suppliers: consent state, gated reports, and one SQL statement per level."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from hub.directory.models import Role
from tests.helpers import Actors, error_codes, gql, make_actor, make_published_assessment

SUPPLIERS = """
query($status: ConsentStatus) {
  suppliers(first: 100, filter: {consentStatus: $status}) {
    totalCount
    edges { node { buyerRef consent { status scopes }
      factory { id access latestAssessment { id summary { cluster noncompliant } findings { questionCode } sharedWith } } } }
  }
}
"""
GRANT = "mutation($b: ID!) { grantConsent(buyerId: $b, scopes: [SUMMARY, FINDINGS]) { status } }"


async def _suppliers(
    http: httpx.AsyncClient, session: AsyncSession, actors: Actors, count: int
) -> list[Any]:
    """`count` factories, each assessed and granting SUMMARY and FINDINGS to the buyer."""
    made = []
    for _ in range(count):
        owner = await make_actor(session, http, Role.FACTORY)
        assert owner.factory is not None
        await make_published_assessment(http, actors[Role.ASSESSOR], owner.factory)
        body = await gql(http, GRANT, {"b": str(actors[Role.BUYER].org.id)}, actor=owner)
        assert body["data"]["grantConsent"]["status"] == "GRANTED"
        made.append(owner)
    return made


def _count_statements(app: Starlette) -> list[str]:
    """Statements run for this test's requests (not by the app's background tasks: webhook
    dispatch, expiry sweeps and checkpoints share the engine)."""
    seen: list[str] = []
    me = asyncio.current_task()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if asyncio.current_task() is me:
            seen.append(statement)

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", record)
    return seen


async def test_suppliers_with_reports_cost_the_same_sql_for_3_or_12(
    http: httpx.AsyncClient, app: Starlette, actors: Actors, session: AsyncSession
) -> None:
    async def caught_up() -> None:
        # the request's own catch-up reads the new grants unless the LISTEN task got there
        # first: a race, not the query's cost; settle it before counting
        async with app.state.sessions() as s:
            await app.state.authorizer.catch_up(s)

    await _suppliers(http, session, actors, 3)
    await caught_up()
    seen = _count_statements(app)
    small = await gql(http, SUPPLIERS, actor=actors[Role.BUYER])
    assert small["data"]["suppliers"]["totalCount"] == 3
    statements_for_3 = len(seen)

    await _suppliers(http, session, actors, 9)
    await caught_up()
    seen.clear()
    large = await gql(http, SUPPLIERS, actor=actors[Role.BUYER])
    assert large["data"]["suppliers"]["totalCount"] == 12
    assert "errors" not in large
    assert len(seen) == statements_for_3, "a statement per row crept in (N+1)"
    for edge in large["data"]["suppliers"]["edges"]:
        node = edge["node"]
        assert node["consent"]["status"] == "GRANTED"
        assert node["factory"]["access"] == ["FINDINGS", "SUMMARY"]
        assert node["factory"]["latestAssessment"]["sharedWith"] == 1


async def test_filter_by_consent_status(
    http: httpx.AsyncClient, actors: Actors, session: AsyncSession
) -> None:
    await _suppliers(http, session, actors, 2)
    factory = actors[Role.FACTORY].factory
    assert factory is not None
    await gql(
        http,
        "mutation($f: ID!) { requestAccess(factoryId: $f, scopes: [SUMMARY]) { id } }",
        {"f": str(factory.id)},
        actor=actors[Role.BUYER],
    )
    counts = {}
    for status in ("GRANTED", "REQUESTED", "REVOKED"):
        body = await gql(http, SUPPLIERS, {"status": status}, actor=actors[Role.BUYER])
        counts[status] = body["data"]["suppliers"]["totalCount"]
    assert counts == {"GRANTED": 2, "REQUESTED": 1, "REVOKED": 0}


async def test_only_buyers_have_suppliers(http: httpx.AsyncClient, actors: Actors) -> None:
    for role in (Role.FACTORY, Role.AUDITOR, Role.ASSESSOR, Role.ADMIN):
        body = await gql(http, "{ suppliers { totalCount } }", actor=actors[role])
        assert error_codes(body) == ["FORBIDDEN"]
