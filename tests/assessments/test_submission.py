"""Assessors submit, publish and amend; validation names the offending item; roles hold."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hub.directory.models import Role
from tests.helpers import PUBLISH, SUBMIT, Actors, error_codes, gql, make_actor, make_answers


def _input(factory_id: str, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "factoryId": factory_id,
        "cycle": "2026-1",
        "assessedAt": "2026-01-15",
        "answers": make_answers("KH", {"OSH.EMR.03"}),
        "improvementPlan": [{"questionCode": "OSH.EMR.03", "action": "Monthly drills"}],
    }
    base.update(overrides)
    return base


@pytest.fixture
def factory_id(actors: Actors) -> str:
    factory = actors[Role.FACTORY].factory
    assert factory is not None
    return str(factory.id)


async def test_submit_publish_amend(
    http: httpx.AsyncClient, actors: Actors, factory_id: str
) -> None:
    assessor = actors[Role.ASSESSOR]
    first = await gql(http, SUBMIT, {"input": _input(factory_id)}, actor=assessor)
    draft = first["data"]["submitAssessment"]
    assert draft["status"] == "DRAFT"
    assert draft["version"] == 1
    assert len(draft["contentHash"]) == 64

    again = await gql(http, SUBMIT, {"input": _input(factory_id)}, actor=assessor)
    assert error_codes(again) == ["CONFLICT"]

    published = await gql(http, PUBLISH, {"id": draft["id"]}, actor=assessor)
    assert published["data"]["publishAssessment"]["status"] == "PUBLISHED"
    repeat = await gql(http, PUBLISH, {"id": draft["id"]}, actor=assessor)
    assert (
        repeat["data"]["publishAssessment"]["publishedAt"]
        == published["data"]["publishAssessment"]["publishedAt"]
    )

    amended = await gql(
        http,
        "mutation($id: ID!, $input: AssessmentInput!) { amendAssessment(id: $id, input: $input) "
        "{ id version status contentHash } }",
        {"id": draft["id"], "input": _input(factory_id, answers=make_answers("KH"))},
        actor=assessor,
    )
    v2 = amended["data"]["amendAssessment"]
    assert v2["version"] == 2
    assert v2["status"] == "DRAFT"
    assert v2["contentHash"] != draft["contentHash"]
    await gql(http, PUBLISH, {"id": v2["id"]}, actor=assessor)

    history = await gql(
        http,
        "query($f: ID!) { factory(id: $f) { latestAssessment { id version } "
        "assessments { totalCount edges { node { version contentHash } } } } }",
        {"f": factory_id},
        actor=actors[Role.FACTORY],
    )
    data = history["data"]["factory"]
    assert data["latestAssessment"]["version"] == 2
    assert data["assessments"]["totalCount"] == 2
    assert [e["node"]["contentHash"] for e in data["assessments"]["edges"]] == [
        v2["contentHash"],
        draft["contentHash"],
    ]


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"cycle": "2026"}, "YYYY-N"),
        ({"cycle": "26-1"}, "YYYY-N"),
        ({"assessedAt": "2999-01-01"}, "future"),
        ({"answers": []}, "at least one answer"),
        ({"answers": [{"questionCode": "NOPE.01", "compliant": True}]}, "NOPE.01"),
        (
            {"answers": [{"questionCode": "OSH.EMR.01", "compliant": True}] * 2},
            "OSH.EMR.01 is answered 2 times",
        ),
        ({"answers": [{"questionCode": "FOA.UOP.BD1", "compliant": True}]}, "applies in BD"),
        (
            {"improvementPlan": [{"questionCode": "ZZZ.ZZZ.99", "action": "x"}]},
            "ZZZ.ZZZ.99",
        ),
        ({"factoryId": "00000000-0000-0000-0000-000000000000"}, "unknown factory"),
        ({"factoryId": "not-an-id"}, "unknown factory"),
    ],
)
async def test_bad_submissions_name_the_offending_item(
    http: httpx.AsyncClient, actors: Actors, factory_id: str, change: dict[str, Any], needle: str
) -> None:
    body = await gql(
        http, SUBMIT, {"input": _input(factory_id, **change)}, actor=actors[Role.ASSESSOR]
    )
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert needle in body["errors"][0]["message"]
    assert body["data"] is None


@pytest.mark.parametrize("role", [Role.BUYER, Role.FACTORY, Role.AUDITOR, Role.ADMIN])
async def test_only_assessors_submit(
    http: httpx.AsyncClient, actors: Actors, factory_id: str, role: Role
) -> None:
    body = await gql(http, SUBMIT, {"input": _input(factory_id)}, actor=actors[role])
    assert error_codes(body) == ["FORBIDDEN"]


async def test_an_assessor_cannot_publish_another_organisations_work(
    http: httpx.AsyncClient, actors: Actors, factory_id: str, session: AsyncSession
) -> None:
    draft = await gql(http, SUBMIT, {"input": _input(factory_id)}, actor=actors[Role.ASSESSOR])
    other = await make_actor(session, http, Role.ASSESSOR)
    body = await gql(http, PUBLISH, {"id": draft["data"]["submitAssessment"]["id"]}, actor=other)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "another assessor organisation" in body["errors"][0]["message"]


async def test_drafts_are_seen_by_their_author_only(
    http: httpx.AsyncClient, actors: Actors, factory_id: str
) -> None:
    draft = await gql(http, SUBMIT, {"input": _input(factory_id)}, actor=actors[Role.ASSESSOR])
    draft_id = draft["data"]["submitAssessment"]["id"]
    query = "query($id: ID!) { assessment(id: $id) { status findings { questionCode } } }"
    mine = await gql(http, query, {"id": draft_id}, actor=actors[Role.ASSESSOR])
    assert mine["data"]["assessment"]["status"] == "DRAFT"
    for role in (Role.FACTORY, Role.BUYER, Role.AUDITOR, Role.ADMIN):
        body = await gql(http, query, {"id": draft_id}, actor=actors[role])
        assert error_codes(body) == ["NOT_FOUND"], role


async def test_auditors_never_see_report_content(
    http: httpx.AsyncClient, actors: Actors, factory_id: str
) -> None:
    draft = await gql(http, SUBMIT, {"input": _input(factory_id)}, actor=actors[Role.ASSESSOR])
    assessment_id = draft["data"]["submitAssessment"]["id"]
    await gql(http, PUBLISH, {"id": assessment_id}, actor=actors[Role.ASSESSOR])
    for role in (Role.AUDITOR, Role.ADMIN):
        body = await gql(
            http,
            "query($f: ID!, $a: ID!) { factory(id: $f) { access latestAssessment { id } } "
            "assessment(id: $a) { id } }",
            {"f": factory_id, "a": assessment_id},
            actor=actors[role],
        )
        assert body["data"] == {
            "factory": {"access": [], "latestAssessment": None},
            "assessment": None,
        }
        assert sorted(error_codes(body)) == ["FORBIDDEN", "NOT_FOUND"]


async def test_factory_updates_its_improvement_actions(
    http: httpx.AsyncClient, actors: Actors, factory_id: str, session: AsyncSession
) -> None:
    draft = await gql(http, SUBMIT, {"input": _input(factory_id)}, actor=actors[Role.ASSESSOR])
    assessment_id = draft["data"]["submitAssessment"]["id"]
    await gql(http, PUBLISH, {"id": assessment_id}, actor=actors[Role.ASSESSOR])
    plan = await gql(
        http,
        "query($a: ID!) { assessment(id: $a) { improvementPlan { id status } } }",
        {"a": assessment_id},
        actor=actors[Role.FACTORY],
    )
    action_id = plan["data"]["assessment"]["improvementPlan"][0]["id"]
    update = "mutation($id: ID!, $s: ImprovementActionStatus!) { updateImprovementAction(id: $id, status: $s) { id status } }"
    done = await gql(
        http, update, {"id": action_id, "s": "IN_PROGRESS"}, actor=actors[Role.FACTORY]
    )
    assert done["data"]["updateImprovementAction"]["status"] == "IN_PROGRESS"

    stranger = await make_actor(session, http, Role.FACTORY)
    body = await gql(http, update, {"id": action_id, "s": "COMPLETED"}, actor=stranger)
    assert error_codes(body) == ["NOT_FOUND"]
    body = await gql(http, update, {"id": action_id, "s": "COMPLETED"}, actor=actors[Role.BUYER])
    assert error_codes(body) == ["FORBIDDEN"]
