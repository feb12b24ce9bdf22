"""Reused answers (hub.graphql.response_cache), from the attacker's side: a buyer repeating a
question must never get an answer older than the last consent change, publication or data edit,
and every reuse of protected content is disclosed and checked again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
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
from hub.directory.models import Factory, Role
from hub.documents.registry import document_id
from hub.graphql.cost import estimate
from hub.graphql.response_cache import ResponseCache
from hub.graphql.schema import build_schema
from hub.ledger.repository import LedgerRepository
from hub.ledger.service import LedgerService
from tests.conftest import _libpq, make_settings
from tests.helpers import (
    Actors,
    error_codes,
    fetch_token,
    gql,
    grant,
    make_published_assessment,
    revoke,
    run_hub,
)

OPERATIONS = Path(__file__).parents[2] / "schema" / "operations"
VIEWER = (OPERATIONS / "Viewer.graphql").read_text()

REPORT = (
    "query($id: ID!) { factory(id: $id) { name latestAssessment { id cycle "
    "findings(noncompliantOnly: true) { questionCode } } } }"
)


@pytest.fixture
async def quiet_app(database_url: str, key_file: Path) -> AsyncIterator[Starlette]:
    """No background tasks: nothing but the requests of the test changes the database."""
    app = create_app(make_settings(database_url, key_file, HUB_BACKGROUND="off"))
    async with LifespanManager(app):
        yield app


@pytest.fixture
async def http(quiet_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=quiet_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        yield client


def _cache(app: Starlette) -> ResponseCache:
    cache: ResponseCache = app.state.response_cache
    return cache


async def _disclosed(database_url: str) -> int:
    conn = await asyncpg.connect(_libpq(database_url))
    try:
        count: int = await conn.fetchval("SELECT count(*) FROM disclosures")
    finally:
        await conn.close()
    return count


async def _ask(http: httpx.AsyncClient, actors: Actors) -> dict[str, object]:
    factory = actors[Role.FACTORY].factory
    assert factory is not None
    return await gql(http, REPORT, {"id": str(factory.id)}, actor=actors[Role.BUYER])


async def _published_and_granted(
    http: httpx.AsyncClient, actors: Actors
) -> tuple[Factory, dict[str, Any]]:
    factory = actors[Role.FACTORY].factory
    assert factory is not None
    await make_published_assessment(http, actors[Role.ASSESSOR], factory)
    consent = await grant(http, actors[Role.FACTORY], actors[Role.BUYER], ["SUMMARY", "FINDINGS"])
    return factory, consent


async def test_a_reused_answer_is_the_same_and_disclosed_again(
    http: httpx.AsyncClient, quiet_app: Starlette, actors: Actors, database_url: str
) -> None:
    factory = actors[Role.FACTORY].factory
    assert factory is not None
    await make_published_assessment(
        http, actors[Role.ASSESSOR], factory, noncompliant={"OSH.EMR.01"}
    )
    await grant(http, actors[Role.FACTORY], actors[Role.BUYER], ["SUMMARY", "FINDINGS"])

    first = await _ask(http, actors)
    once = await _disclosed(database_url)
    hits = _cache(quiet_app).hits
    second = await _ask(http, actors)

    assert _cache(quiet_app).hits == hits + 1
    assert second == first
    assert "errors" not in second
    assert await _disclosed(database_url) == 2 * once > 0  # the reuse is in the log, like the first


async def test_a_revocation_binds_the_very_next_identical_question(
    http: httpx.AsyncClient, quiet_app: Starlette, actors: Actors, database_url: str
) -> None:
    factory, consent = await _published_and_granted(http, actors)
    await _ask(http, actors)
    await _ask(http, actors)  # now cached
    before = await _disclosed(database_url)

    await revoke(http, actors[Role.FACTORY], consent["id"])
    refused = await _ask(http, actors)

    assert refused["data"] == {"factory": {"name": factory.name, "latestAssessment": None}}
    assert error_codes(refused) == ["FORBIDDEN"]
    assert await _disclosed(database_url) == before


async def test_a_publication_and_an_edit_outside_the_api_change_the_next_answer(
    http: httpx.AsyncClient, actors: Actors, database_url: str
) -> None:
    factory = actors[Role.FACTORY].factory
    assert factory is not None
    await grant(http, actors[Role.FACTORY], actors[Role.BUYER], ["SUMMARY", "FINDINGS"])
    first = await _ask(http, actors)
    assert first["data"]["factory"]["latestAssessment"] is None  # type: ignore[index]
    assert (await _ask(http, actors)) == first

    published = await make_published_assessment(
        http, actors[Role.ASSESSOR], factory, noncompliant={"OSH.EMR.01"}
    )
    latest = (await _ask(http, actors))["data"]["factory"]["latestAssessment"]  # type: ignore[index]
    assert latest == {
        "id": published,
        "cycle": "2026-1",
        "findings": [{"questionCode": "OSH.EMR.01"}],
    }

    conn = await asyncpg.connect(_libpq(database_url))
    try:
        await conn.execute("UPDATE factories SET name = 'Renamed by an operator'")
    finally:
        await conn.close()
    renamed = await _ask(http, actors)
    assert renamed["data"]["factory"]["name"] == "Renamed by an operator"  # type: ignore[index]


async def test_an_answer_is_not_reused_past_the_expiry_of_a_grant(
    http: httpx.AsyncClient, quiet_app: Starlette, actors: Actors
) -> None:
    factory = actors[Role.FACTORY].factory
    assert factory is not None
    await make_published_assessment(http, actors[Role.ASSESSOR], factory)
    expires = datetime.now(UTC) + timedelta(seconds=1.5)
    await grant(
        http,
        actors[Role.FACTORY],
        actors[Role.BUYER],
        ["SUMMARY", "FINDINGS"],
        expires_at=expires.isoformat(),
    )
    await _ask(http, actors)
    hits = _cache(quiet_app).hits
    assert "errors" not in await _ask(http, actors)
    assert _cache(quiet_app).hits == hits + 1

    # no sweeper runs in this app: only the answer's own lifetime can stop its reuse
    await asyncio.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.1)
    refused = await _ask(http, actors)
    assert refused["data"]["factory"]["latestAssessment"] is None  # type: ignore[index]
    assert error_codes(refused) == ["FORBIDDEN"]


async def test_answers_are_per_caller_and_mutations_are_never_reused(
    http: httpx.AsyncClient, quiet_app: Starlette, actors: Actors
) -> None:
    factory = actors[Role.FACTORY].factory
    assert factory is not None
    await make_published_assessment(http, actors[Role.ASSESSOR], factory)
    await grant(http, actors[Role.FACTORY], actors[Role.BUYER], ["SUMMARY", "FINDINGS"])
    seen = await _ask(http, actors)
    assert seen["data"]["factory"]["latestAssessment"] is not None  # type: ignore[index]

    # the same document from the auditor: its own answer, not the buyer's
    audited = await gql(http, REPORT, {"id": str(factory.id)}, actor=actors[Role.AUDITOR])
    assert audited["data"]["factory"]["latestAssessment"] is None
    assert error_codes(audited) == ["FORBIDDEN"]

    hits = _cache(quiet_app).hits
    for _ in range(2):  # the same mutation twice: executed twice, never answered from memory
        await grant(http, actors[Role.FACTORY], actors[Role.BUYER], ["SUMMARY"])
    assert _cache(quiet_app).hits == hits


async def test_a_reuse_is_charged_to_the_budget_like_the_first_answer(
    database_url: str, key_file: Path, actors: Actors
) -> None:
    factory = actors[Role.FACTORY].factory
    assert factory is not None
    settings = make_settings(database_url, key_file, HUB_BACKGROUND="off")
    schema = build_schema(settings)._schema  # type: ignore[attr-defined]
    cost = estimate(schema, parse(REPORT), None, {"id": str(factory.id)})
    # paced: a third of the minute's budget in any 10 s, so three answers and no fourth
    app = create_app(
        make_settings(database_url, key_file, HUB_BACKGROUND="off", HUB_RATE_BUDGET=9 * cost)
    )
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
            await grant(http, actors[Role.FACTORY], actors[Role.BUYER], ["SUMMARY"])
            answers = [await _ask(http, actors) for _ in range(4)]
    assert _cache(app).hits >= 2  # the second and third were reused
    assert all("errors" not in a for a in answers[:3])
    assert error_codes(answers[3]) == ["RATE_LIMITED"]


async def test_documents_by_id_and_restricted_clients_are_never_reused(
    http: httpx.AsyncClient, quiet_app: Starlette, actors: Actors, settings: Settings
) -> None:
    # which documents exist, and who may run only those, is in tables no revision tracks
    buyer = actors[Role.BUYER]
    assert run_hub(settings, "documents", "add", str(OPERATIONS / "Viewer.graphql")).returncode == 0
    by_id = {"documentId": document_id(VIEWER)}
    for _ in range(2):
        r = await http.post("/graphql", json=by_id, headers=buyer.headers)
        assert r.json()["data"]["viewer"]["role"] == "BUYER"
    assert len(_cache(quiet_app)) == 0

    assert run_hub(settings, "client", "restrict", buyer.client_id).returncode == 0
    token = await fetch_token(http, buyer.client_id, buyer.client_secret)
    for _ in range(2):
        r = await http.post(
            "/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"}
        )
        assert "errors" not in r.json()
    assert len(_cache(quiet_app)) == 0
    plain = await gql(http, "{ viewer { role } }", actor=buyer)  # an ordinary client: kept
    assert plain["data"] == {"viewer": {"role": "BUYER"}}
    assert len(_cache(quiet_app)) == 1


async def test_a_kept_answer_whose_consent_moved_underneath_is_not_sent(
    http: httpx.AsyncClient, quiet_app: Starlette, actors: Actors, database_url: str
) -> None:
    # the consent row ends without a ledger event or a revision (triggers off, as an operator
    # could): the key still matches, so only the disclosure check at the edge stands between
    # the kept answer and the buyer; it must refuse and the request must fail closed
    await _published_and_granted(http, actors)
    await _ask(http, actors)
    assert "errors" not in await _ask(http, actors)  # kept and reused
    before = await _disclosed(database_url)

    conn = await asyncpg.connect(_libpq(database_url))
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute("UPDATE consents SET status = 'REVOKED'")
    finally:
        await conn.close()
    hits = _cache(quiet_app).hits
    refused = await _ask(http, actors)

    assert _cache(quiet_app).hits == hits + 1  # found, then refused at the edge
    assert refused["data"] is None
    assert error_codes(refused) == ["FORBIDDEN"]
    assert await _disclosed(database_url) == before


async def test_a_digest_of_the_disclosure_log_does_not_cost_a_kept_answer(
    http: httpx.AsyncClient, quiet_app: Starlette, actors: Actors, database_url: str
) -> None:
    # a digest moves the ledger head (the projection is then behind) but changes no answer: the
    # edge catches up and reuses, rather than every such request building its answer afresh
    await _published_and_granted(http, actors)
    first = await _ask(http, actors)
    assert "errors" not in first
    sessions = quiet_app.state.sessions
    async with sessions() as session, session.begin():
        assert await LedgerService(session).digest_disclosures() is not None
        head = await LedgerRepository(session).head()
    authorizer = quiet_app.state.authorizer
    assert authorizer.revision < head
    hits, before = _cache(quiet_app).hits, await _disclosed(database_url)

    second = await _ask(http, actors)

    assert _cache(quiet_app).hits == hits + 1
    assert second == first
    assert authorizer.revision == head
    assert await _disclosed(database_url) > before  # still disclosed, and checked, at the edge
