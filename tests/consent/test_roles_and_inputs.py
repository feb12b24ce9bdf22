"""Who may change consent, and every bad input to the lifecycle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from hub.directory.models import Role
from tests.helpers import Actors, error_codes, gql, grant, make_actor, revoke

GRANT = "mutation($b: ID!, $s: [ConsentScope!]!, $e: DateTime) { grantConsent(buyerId: $b, scopes: $s, expiresAt: $e) { id status ledgerSeq } }"
REQUEST = "mutation($f: ID!, $s: [ConsentScope!]!) { requestAccess(factoryId: $f, scopes: $s) { id status ledgerSeq } }"
DECLINE = 'mutation($c: ID!) { declineRequest(consentId: $c, reason: "no") { status ledgerSeq } }'


async def test_a_buyer_cannot_grant(http: httpx.AsyncClient, actors: Actors) -> None:
    body = await gql(
        http,
        GRANT,
        {"b": str(actors[Role.BUYER].org.id), "s": ["SUMMARY"]},
        actor=actors[Role.BUYER],
    )
    assert error_codes(body) == ["FORBIDDEN"]


async def test_a_factory_cannot_revoke_another_factorys_consent(
    http: httpx.AsyncClient, actors: Actors, session: AsyncSession
) -> None:
    granted = await grant(http, actors[Role.FACTORY], actors[Role.BUYER], ["SUMMARY"])
    other_factory = await make_actor(session, http, Role.FACTORY)
    body = await gql(
        http,
        "mutation($c: ID!) { revokeConsent(consentId: $c) { status } }",
        {"c": granted["id"]},
        actor=other_factory,
    )
    assert error_codes(body) == ["NOT_FOUND"]
    body = await gql(
        http,
        "mutation($c: ID!) { revokeConsent(consentId: $c) { status } }",
        {"c": granted["id"]},
        actor=actors[Role.BUYER],
    )
    assert error_codes(body) == ["FORBIDDEN"], (
        "the buyer is a party: it sees the consent but may not revoke"
    )


async def test_only_buyers_request(http: httpx.AsyncClient, actors: Actors) -> None:
    factory = actors[Role.FACTORY].factory
    assert factory is not None
    for role in (Role.FACTORY, Role.ASSESSOR, Role.AUDITOR, Role.ADMIN):
        body = await gql(
            http, REQUEST, {"f": str(factory.id), "s": ["SUMMARY"]}, actor=actors[role]
        )
        assert error_codes(body) == ["FORBIDDEN"], role


async def test_bad_inputs(http: httpx.AsyncClient, actors: Actors) -> None:
    factory_actor, buyer = actors[Role.FACTORY], actors[Role.BUYER]
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    cases = [
        (GRANT, {"b": str(buyer.org.id), "s": []}, factory_actor, "BAD_USER_INPUT"),
        (
            GRANT,
            {"b": str(buyer.org.id), "s": ["SUMMARY"], "e": past},
            factory_actor,
            "BAD_USER_INPUT",
        ),
        (GRANT, {"b": str(buyer.org.id), "s": ["EVERYTHING"]}, factory_actor, "BAD_USER_INPUT"),
        (
            GRANT,
            {"b": str(actors[Role.AUDITOR].org.id), "s": ["SUMMARY"]},
            factory_actor,
            "NOT_FOUND",
        ),
        (GRANT, {"b": "nope", "s": ["SUMMARY"]}, factory_actor, "NOT_FOUND"),
        (
            REQUEST,
            {"f": "00000000-0000-0000-0000-000000000000", "s": ["SUMMARY"]},
            buyer,
            "NOT_FOUND",
        ),
        (DECLINE, {"c": "00000000-0000-0000-0000-000000000000"}, factory_actor, "NOT_FOUND"),
    ]
    for query, variables, actor, code in cases:
        body = await gql(http, query, variables, actor=actor)
        assert error_codes(body) == [code], (variables, body)


async def test_repeating_a_call_changes_nothing(http: httpx.AsyncClient, actors: Actors) -> None:
    factory = actors[Role.FACTORY].factory
    assert factory is not None
    buyer, factory_actor = actors[Role.BUYER], actors[Role.FACTORY]
    first = await gql(
        http, REQUEST, {"f": str(factory.id), "s": ["SUMMARY", "FINDINGS"]}, actor=buyer
    )
    second = await gql(
        http, REQUEST, {"f": str(factory.id), "s": ["FINDINGS", "SUMMARY"]}, actor=buyer
    )
    assert first["data"]["requestAccess"] == second["data"]["requestAccess"]

    declined = await gql(
        http, DECLINE, {"c": first["data"]["requestAccess"]["id"]}, actor=factory_actor
    )
    assert declined["data"]["declineRequest"]["status"] == "DECLINED"
    again = await gql(
        http, DECLINE, {"c": first["data"]["requestAccess"]["id"]}, actor=factory_actor
    )
    assert again["data"]["declineRequest"] == declined["data"]["declineRequest"]
    refused = await gql(
        http, GRANT, {"b": str(buyer.org.id), "s": ["SUMMARY"]}, actor=factory_actor
    )
    assert error_codes(refused) == ["CONFLICT"], "no grant after a decline without a new request"

    await gql(http, REQUEST, {"f": str(factory.id), "s": ["SUMMARY"]}, actor=buyer)
    g1 = await grant(http, factory_actor, buyer, ["SUMMARY"])
    g2 = await grant(http, factory_actor, buyer, ["SUMMARY"])
    assert g1 == g2
    widened = await grant(http, factory_actor, buyer, ["SUMMARY", "FINDINGS"])
    assert widened["ledgerSeq"] > g1["ledgerSeq"], "changing scopes is a new GRANTED event"
    r1 = await revoke(http, factory_actor, widened["id"])
    r2 = await revoke(http, factory_actor, widened["id"])
    assert r1 == r2


async def test_consents_list_by_role(
    http: httpx.AsyncClient, actors: Actors, session: AsyncSession
) -> None:
    await grant(http, actors[Role.FACTORY], actors[Role.BUYER], ["SUMMARY"])
    other_buyer = await make_actor(session, http, Role.BUYER)
    await grant(http, actors[Role.FACTORY], other_buyer, ["FINDINGS"])
    query = "{ consents { totalCount edges { node { buyer { id } factory { id } status } } } }"
    counts = {}
    for name, actor in [
        ("factory", actors[Role.FACTORY]),
        ("buyer", actors[Role.BUYER]),
        ("auditor", actors[Role.AUDITOR]),
    ]:
        body = await gql(http, query, actor=actor)
        counts[name] = body["data"]["consents"]["totalCount"]
    assert counts == {"factory": 2, "buyer": 1, "auditor": 2}
    body = await gql(http, query, actor=actors[Role.ASSESSOR])
    assert error_codes(body) == ["FORBIDDEN"]
