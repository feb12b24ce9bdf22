"""The attacker's view: a buyer without consent tries every read path it can think of. No
finding, summary or improvement plan of that factory may ever appear in a response body."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hub.directory.models import Role
from tests.helpers import (
    PUBLISH,
    SUBMIT,
    Actor,
    Actors,
    error_codes,
    gql,
    grant,
    make_actor,
    make_answers,
)

SECRET = "SECRET-7f3a"  # written into every comment and action of the victim's report
CONTENT = """
fragment Content on Assessment {
  id cycle contentHash
  summary { cluster noncompliant complianceRate }
  findings { questionCode compliant comment legalReference }
  improvementPlan { action status }
}
"""


@pytest.fixture
async def victim(http: httpx.AsyncClient, actors: Actors, session: AsyncSession) -> dict[str, Any]:
    factory = actors[Role.FACTORY].factory
    assert factory is not None
    answers = make_answers(factory.country, {"OSH.EMR.01", "FOR.COE.02"})
    for a in answers:
        a["comment"] = f"{SECRET} {a['questionCode']}"
    body = await gql(
        http,
        SUBMIT,
        {
            "input": {
                "factoryId": str(factory.id),
                "cycle": "2026-1",
                "assessedAt": "2026-02-02",
                "answers": answers,
                "improvementPlan": [{"questionCode": "OSH.EMR.01", "action": f"{SECRET} exits"}],
            }
        },
        actor=actors[Role.ASSESSOR],
    )
    assessment_id = body["data"]["submitAssessment"]["id"]
    await gql(http, PUBLISH, {"id": assessment_id}, actor=actors[Role.ASSESSOR])
    # a legitimate buyer holds a full grant: the attacker must not ride on it
    granted = await grant(
        http, actors[Role.FACTORY], actors[Role.BUYER], ["SUMMARY", "FINDINGS", "IMPROVEMENT_PLAN"]
    )
    attacker = await make_actor(session, http, Role.BUYER)
    return {
        "factory": factory,
        "assessment": assessment_id,
        "consent": granted["id"],
        "attacker": attacker,
        "legit": actors[Role.BUYER],
    }


ATTEMPTS = [
    (
        "query($f: ID!) { factory(id: $f) { access latestAssessment { ...Content } } }" + CONTENT,
        "f",
    ),
    (
        "query($f: ID!) { factory(id: $f) { assessments { totalCount edges { node { ...Content } } } } }"
        + CONTENT,
        "f",
    ),
    ("query($a: ID!) { assessment(id: $a) { ...Content } }" + CONTENT, "a"),
    (
        "query($a: ID!) { x: assessment(id: $a) { findings { comment } } "
        "y: assessment(id: $a) { improvementPlan { action } } z: assessment(id: $a) { summary { cluster } } }",
        "a",
    ),
    (
        "query($f: ID!, $h: ID!) { a: factory(id: $f) { ...G } b: factory(id: $h) { ...G } } "
        "fragment G on Factory { latestAssessment { ... on Assessment { findings { comment } } } }",
        "fh",
    ),
    (
        "{ factories(first: 100) { edges { node { latestAssessment { ...Content } } } } }"
        + CONTENT,
        "",
    ),
    (
        "{ suppliers { edges { node { factory { latestAssessment { ...Content } } consent { id } } } } }"
        + CONTENT,
        "",
    ),
    (
        "query($f: ID!) { consents(filter: {factoryId: $f}) { totalCount edges { node { id buyer { id } } } } }",
        "f",
    ),
    ("query($b: ID!) { consents(filter: {buyerId: $b}) { totalCount } }", "b"),
    (
        "query($b: ID!) { disclosures(filter: {buyerId: $b}) { totalCount edges { node { assessmentId } } } }",
        "b",
    ),
    ("query($f: ID!) { disclosures(filter: {factoryId: $f}) { totalCount } }", "f"),
]


async def _attempt(
    http: httpx.AsyncClient, victim: dict[str, Any], query: str, needs: str
) -> dict[str, Any]:
    variables: dict[str, Any] = {}
    if "f" in needs:
        variables["f"] = str(victim["factory"].id)
    if "h" in needs:
        variables["h"] = victim["factory"].hub_id
    if "a" in needs:
        variables["a"] = victim["assessment"]
    if "b" in needs:
        variables["b"] = str(victim["legit"].org.id)
    return await gql(http, query, variables, actor=victim["attacker"])


@pytest.mark.parametrize(("query", "needs"), ATTEMPTS)
async def test_no_content_reaches_a_buyer_without_consent(
    http: httpx.AsyncClient, victim: dict[str, Any], query: str, needs: str
) -> None:
    body = await _attempt(http, victim, query, needs)
    text = str(body)
    assert SECRET not in text
    assert "OSH.EMR.01" not in text
    assert "'cluster'" not in text  # no summary row of any kind
    assert "INTERNAL_SERVER_ERROR" not in error_codes(body)


async def test_the_legitimate_buyer_does_see_it(
    http: httpx.AsyncClient, victim: dict[str, Any]
) -> None:
    # the same attempts, by the buyer holding the grant: proves the attempts reach the content
    victim = {**victim, "attacker": victim["legit"]}
    body = await _attempt(http, victim, *ATTEMPTS[0])
    assert SECRET in str(body)


async def test_assessment_ids_do_not_leak_existence(
    http: httpx.AsyncClient, victim: dict[str, Any]
) -> None:
    query = "query($a: ID!) { assessment(id: $a) { id } }"
    made_up = str(uuid.uuid4())
    answers = []
    for assessment_id in (victim["assessment"], made_up):
        body = await gql(http, query, {"a": assessment_id}, actor=victim["attacker"])
        assert body["data"] == {"assessment": None}
        assert error_codes(body) == ["NOT_FOUND"]
        answers.append(body["errors"][0]["message"].replace(assessment_id, "<id>"))
    assert answers[0] == answers[1], "a real id must be answered exactly like a made-up one"


async def test_attacker_cannot_touch_someone_elses_consent(
    http: httpx.AsyncClient, victim: dict[str, Any]
) -> None:
    for mutation in ("revokeConsent", "declineRequest"):
        body = await gql(
            http,
            f"mutation($c: ID!) {{ {mutation}(consentId: $c) {{ id status }} }}",
            {"c": victim["consent"]},
            actor=victim["attacker"],
        )
        assert error_codes(body) == ["NOT_FOUND"]
    body = await gql(
        http,
        "mutation($b: ID!) { grantConsent(buyerId: $b, scopes: [FINDINGS]) { id } }",
        {"b": str(victim["attacker"].org.id)},
        actor=victim["attacker"],
    )
    assert error_codes(body) == ["FORBIDDEN"]


async def test_a_request_alone_discloses_nothing(
    http: httpx.AsyncClient, victim: dict[str, Any]
) -> None:
    asked = await gql(
        http,
        "mutation($f: ID!) { requestAccess(factoryId: $f, scopes: [FINDINGS]) "
        "{ status factory { latestAssessment { findings { comment } } } } }",
        {"f": str(victim["factory"].id)},
        actor=victim["attacker"],
    )
    assert SECRET not in str(asked)
    body = await _attempt(http, victim, *ATTEMPTS[0])
    assert SECRET not in str(body)


async def test_scope_is_enforced_field_by_field(
    http: httpx.AsyncClient, actors: Actors, victim: dict[str, Any]
) -> None:
    attacker: Actor = victim["attacker"]
    await grant(http, actors[Role.FACTORY], attacker, ["SUMMARY"])
    body = await _attempt(http, {**victim, "attacker": attacker}, *ATTEMPTS[0])
    latest = body["data"]["factory"]["latestAssessment"]
    assert latest["summary"]
    assert latest["findings"] is None
    assert latest["improvementPlan"] is None
    assert sorted(error_codes(body)) == ["FORBIDDEN", "FORBIDDEN"]
    assert SECRET not in str(body)
