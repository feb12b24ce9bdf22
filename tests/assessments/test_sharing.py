"""One assessment per factory, shared: reuse, pooling, fulfilment and the sharing figures."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from hub.directory.models import Role
from tests.helpers import Actors, error_codes, gql, make_actor, make_published_assessment

REQUEST = """
mutation($f: ID!) { requestAssessment(factoryId: $f) { id status reused requestedBy costShare assessment { id } factory { id } } }
"""
STATS = "{ sharingStats { factories assessments supplierLinks linksServedByExistingAssessments auditsAvoided } }"
SUPPLIERS = "{ suppliers { edges { node { factory { id } assessmentRequest { status requestedBy costShare reused } } } } }"


async def _request(http: httpx.AsyncClient, buyer: Any, factory_id: str) -> dict[str, Any]:
    body = await gql(http, REQUEST, {"f": factory_id}, actor=buyer)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["requestAssessment"]
    return result


async def test_buyers_pool_then_share_the_publication(
    http: httpx.AsyncClient, actors: Actors, session: AsyncSession
) -> None:
    factory = actors[Role.FACTORY].factory
    assert factory is not None
    fid = str(factory.id)
    buyers = [actors[Role.BUYER], *[await make_actor(session, http, Role.BUYER) for _ in range(2)]]
    first = await _request(http, buyers[0], fid)
    assert (first["status"], first["reused"], first["requestedBy"]) == ("OPEN", False, 1)
    second = await _request(http, buyers[1], fid)
    assert second["id"] == first["id"]
    assert second["requestedBy"] == 2
    assert second["costShare"] == 0.5
    again = await _request(http, buyers[1], fid)
    assert again["requestedBy"] == 2, "asking twice pools once"

    # link the factory as a supplier, so the pooled request shows in the supplier status
    await gql(
        http,
        "mutation($f: ID!) { requestAccess(factoryId: $f, scopes: [SUMMARY]) { id } }",
        {"f": fid},
        actor=buyers[0],
    )
    status = await gql(http, SUPPLIERS, actor=buyers[0])
    [edge] = status["data"]["suppliers"]["edges"]
    assert edge["node"]["assessmentRequest"] == {
        "status": "OPEN",
        "requestedBy": 2,
        "costShare": 0.5,
        "reused": False,
    }

    await make_published_assessment(http, actors[Role.ASSESSOR], factory)
    status = await gql(http, SUPPLIERS, actor=buyers[0])
    assert (
        status["data"]["suppliers"]["edges"][0]["node"]["assessmentRequest"]["status"]
        == "FULFILLED"
    )

    third = await _request(http, buyers[2], fid)
    assert third["reused"] is True
    assert third["status"] == "FULFILLED"
    assert third["assessment"] is None, "reused, but the factory has not consented to this buyer"
    assert third["costShare"] == 0.0

    stats = (await gql(http, STATS, actor=actors[Role.AUDITOR]))["data"]["sharingStats"]
    # three buyers needed an assessment of this factory; one was commissioned
    assert stats["auditsAvoided"] == 2
    assert stats["assessments"] == 1
    assert stats["supplierLinks"] == 1
    assert stats["linksServedByExistingAssessments"] == 1


async def test_requests_are_for_buyers_and_known_factories(
    http: httpx.AsyncClient, actors: Actors
) -> None:
    factory = actors[Role.FACTORY].factory
    assert factory is not None
    body = await gql(http, REQUEST, {"f": str(factory.id)}, actor=actors[Role.FACTORY])
    assert error_codes(body) == ["FORBIDDEN"]
    body = await gql(
        http, REQUEST, {"f": "00000000-0000-0000-0000-000000000000"}, actor=actors[Role.BUYER]
    )
    assert error_codes(body) == ["NOT_FOUND"]
