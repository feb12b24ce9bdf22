"""Every change that buyers or factories hear of writes its event in its own transaction, with
who may hear of it: walked through the real API, read back from the outbox."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from hub.consent.tasks import expire_once
from hub.directory.models import Role
from tests.helpers import (
    Actors,
    gql,
    grant,
    make_actor,
    make_answers,
    make_factories,
    make_published_assessment,
    revoke,
)

REQUEST = "mutation($f: ID!) { requestAccess(factoryId: $f, scopes: [SUMMARY]) { id } }"


async def _events(session: AsyncSession, after: int = 0) -> list[Any]:
    rows = await session.execute(
        text(
            "SELECT id, type, factory_id, parties, gated_scope, gated_to, data FROM events "
            "WHERE id > :after ORDER BY id"
        ),
        {"after": after},
    )
    found = rows.all()
    await session.rollback()
    return list(found)


async def _ok(http: httpx.AsyncClient, query: str, variables: dict[str, Any], actor: Any) -> Any:
    body = await gql(http, query, variables, actor=actor)
    assert "errors" not in body, body
    return body["data"]


async def test_every_kind_of_change_writes_its_event(
    http: httpx.AsyncClient, app: Starlette, actors: Actors, session: AsyncSession
) -> None:
    factory, buyer, assessor = actors[Role.FACTORY], actors[Role.BUYER], actors[Role.ASSESSOR]
    f = factory.factory
    assert f is not None
    owner, buyer_id, factory_id = factory.org.id, buyer.org.id, str(f.id)

    await _ok(http, REQUEST, {"f": str(f.id)}, buyer)
    first = await grant(http, factory, buyer, ["SUMMARY"])
    await grant(http, factory, buyer, ["SUMMARY", "FINDINGS"])  # widened: an amendment
    await _ok(
        http,
        "mutation($f: ID!) { requestAssessment(factoryId: $f) { id } }",
        {"f": str(f.id)},
        buyer,
    )
    plan = [{"questionCode": "OSH.EMR.03", "action": "Monthly drills"}]
    assessment = await make_published_assessment(http, assessor, f, plan=plan)
    data = await _ok(
        http,
        "query($a: ID!) { assessment(id: $a) { improvementPlan { id } } }",
        {"a": assessment},
        factory,
    )
    action = data["assessment"]["improvementPlan"][0]["id"]
    await _ok(
        http,
        "mutation($i: ID!) { updateImprovementAction(id: $i, status: IN_PROGRESS) { status } }",
        {"i": action},
        factory,
    )
    amended = await _ok(
        http,
        "mutation($i: ID!, $in: AssessmentInput!) { amendAssessment(id: $i, input: $in) { id } }",
        {
            "i": assessment,
            "in": {
                "factoryId": str(f.id),
                "cycle": "2026-1",
                "assessedAt": "2026-03-02",
                "answers": make_answers(f.country),
            },
        },
        assessor,
    )
    await _ok(
        http,
        "mutation($i: ID!) { publishAssessment(id: $i) { id } }",
        {"i": amended["amendAssessment"]["id"]},
        assessor,
    )
    await revoke(http, factory, first["id"])
    expires = datetime.now(UTC) + timedelta(seconds=1)
    await grant(http, factory, buyer, ["SUMMARY"], expires_at=expires.isoformat())
    await asyncio.sleep(1.2)
    assert await expire_once(app.state.sessions, app.state.authorizer) == 1
    requested = await _ok(http, REQUEST, {"f": str(f.id)}, buyer)
    await _ok(
        http,
        "mutation($c: ID!) { declineRequest(consentId: $c) { status } }",
        {"c": requested["requestAccess"]["id"]},
        factory,
    )
    [duplicate] = await make_factories(session, [(f.name + " (dup)", f.country)])
    other = await make_actor(session, http, Role.BUYER)
    duplicate_id, other_id = str(duplicate.id), other.org.id
    await _ok(http, REQUEST, {"f": str(duplicate.id)}, other)
    await _ok(
        http,
        "mutation($s: ID!, $m: ID!) { mergeFactories(survivorId: $s, mergedId: $m) { id } }",
        {"s": factory_id, "m": duplicate_id},
        actors[Role.ADMIN],
    )

    events = await _events(session)
    assert [e.type for e in events] == [
        "consent.requested",
        "consent.granted",
        "consent.amended",
        "assessment.published",
        "assessment_request.fulfilled",
        "improvement_action.updated",
        "assessment.amended",
        "consent.revoked",
        "consent.granted",
        "consent.expired",
        "consent.requested",
        "consent.declined",
        "consent.requested",  # on the duplicate record, before the merge
        "consent.declined",  # carried over: declined there ...
        "consent.requested",  # ... and asked again on the survivor
        "factory.merged",
    ]
    by_type = {e.type: e for e in events}
    assert set(by_type["consent.granted"].parties) == {owner, buyer_id}
    published = by_type["assessment.published"]
    assert (published.parties, published.gated_scope) == ([owner], "SUMMARY")
    assert published.data == {"assessmentId": assessment, "factoryId": factory_id, "version": 1}
    fulfilled = by_type["assessment_request.fulfilled"]
    assert (fulfilled.gated_scope, fulfilled.gated_to) == ("SUMMARY", [buyer_id])
    assert by_type["improvement_action.updated"].gated_scope == "IMPROVEMENT_PLAN"
    merged = by_type["factory.merged"]
    assert set(merged.parties) == {owner, buyer_id, other_id}
    assert merged.data == {"factoryId": factory_id, "mergedId": duplicate_id}
    # ids only: no answers, findings, comments or actions' text in any event
    assert "Monthly drills" not in str([e.data for e in events])


async def test_a_change_refused_midway_leaves_no_event(
    http: httpx.AsyncClient, actors: Actors, session: AsyncSession
) -> None:
    factory, buyer_id = actors[Role.FACTORY], str(actors[Role.BUYER].org.id)
    before = await _events(session)
    refused = await gql(
        http,
        "mutation($b: ID!, $c: ID!) { a: grantConsent(buyerId: $b, scopes: [SUMMARY]) { id } "
        "b: revokeConsent(consentId: $c) { id } }",
        {"b": buyer_id, "c": str(uuid.uuid4())},
        actor=factory,
    )
    assert refused["errors"]
    assert await _events(session) == before
