"""Subscriptions over graphql-transport-ws against real `hub serve` processes: events made on
one process reach subscribers on another, in order, checked against consent when sent."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from hub.directory.models import Role
from tests.e2e.servers import hub_server
from tests.events.sockets import graphql_socket, receive, start
from tests.helpers import Actors, gql, grant, make_published_assessment, revoke

UPDATES = (
    "subscription { supplierUpdates { eventId type factoryId consentId assessmentId status } }"
)
CONSENT_EVENTS = "subscription { consentEvents { seq type factoryId buyerId scopes reason } }"


async def _next_data(ws: Any, field: str) -> dict[str, Any]:
    message = await receive(ws)
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    data: dict[str, Any] = message["payload"]["data"][field]
    return data


async def test_grant_publication_revocation_in_order_across_processes(
    http: httpx.AsyncClient, actors: Actors, database_url: str, key_file: Path
) -> None:
    factory, buyer = actors[Role.FACTORY], actors[Role.BUYER]
    assessor = actors[Role.ASSESSOR]
    assert factory.factory is not None
    async with (
        hub_server(database_url, key_file) as (a, _),
        hub_server(database_url, key_file) as (b, _),
        httpx.AsyncClient(base_url=b) as via_b,
        graphql_socket(a, buyer.token) as ws,
    ):
        await start(ws, UPDATES)
        await asyncio.sleep(0.3)  # the subscription is registered before the first change
        consent = await grant(via_b, factory, buyer, ["SUMMARY", "FINDINGS"])
        granted = await _next_data(ws, "supplierUpdates")
        assert granted["type"] == "consent.granted"
        assert granted["consentId"] == consent["id"]
        assert granted["status"] == "GRANTED"

        assessment = await make_published_assessment(via_b, assessor, factory.factory)
        published = await _next_data(ws, "supplierUpdates")
        assert published["type"] == "assessment.published"
        assert published["assessmentId"] == assessment
        assert published["factoryId"] == str(factory.factory.id)

        await revoke(via_b, factory, consent["id"])
        revoked = await _next_data(ws, "supplierUpdates")
        assert (revoked["type"], revoked["status"]) == ("consent.revoked", "REVOKED")

        # after the revocation: a new publication is not announced to this buyer; the next
        # thing it hears is its own request for access again
        await make_published_assessment(via_b, assessor, factory.factory, cycle="2026-2")
        requested = await gql(
            via_b,
            "mutation($f: ID!) { requestAccess(factoryId: $f, scopes: [SUMMARY]) { id } }",
            {"f": str(factory.factory.id)},
            actor=buyer,
        )
        assert "errors" not in requested, requested
        following = await _next_data(ws, "supplierUpdates")
        assert following["type"] == "consent.requested", following
        # each event has its own id, the idempotency key webhooks carry too
        ids = {granted["eventId"], published["eventId"], revoked["eventId"], following["eventId"]}
        assert len(ids) == 4


async def test_another_buyer_hears_nothing_of_a_grant_it_was_not_given(
    http: httpx.AsyncClient, actors: Actors, session: Any, database_url: str, key_file: Path
) -> None:
    from tests.helpers import make_actor

    factory, buyer = actors[Role.FACTORY], actors[Role.BUYER]
    other = await make_actor(session, http, Role.BUYER)
    assert factory.factory is not None
    async with (
        hub_server(database_url, key_file) as (a, _),
        graphql_socket(a, other.token, in_header=True) as ws,
    ):
        await start(ws, UPDATES)
        await asyncio.sleep(0.3)
        await grant(http, factory, buyer, ["SUMMARY"])
        await make_published_assessment(http, actors[Role.ASSESSOR], factory.factory)
        with pytest.raises(TimeoutError):
            await receive(ws, wait=1.5)
        # its own change does arrive (the socket works)
        await gql(
            http,
            "mutation($f: ID!) { requestAccess(factoryId: $f, scopes: [SUMMARY]) { id } }",
            {"f": str(factory.factory.id)},
            actor=other,
        )
        own = await _next_data(ws, "supplierUpdates")
        assert own["type"] == "consent.requested"


async def test_consent_events_for_the_factory_and_the_auditor(
    http: httpx.AsyncClient, actors: Actors, database_url: str, key_file: Path
) -> None:
    factory, buyer = actors[Role.FACTORY], actors[Role.BUYER]
    async with (
        hub_server(database_url, key_file) as (a, _),
        graphql_socket(a, factory.token) as as_factory,
        graphql_socket(a, actors[Role.AUDITOR].token) as as_auditor,
        graphql_socket(a, buyer.token) as as_buyer,
    ):
        for ws in (as_factory, as_auditor, as_buyer):
            await start(ws, CONSENT_EVENTS)
        refused = await receive(as_buyer)
        assert refused["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN", refused
        await asyncio.sleep(0.3)
        consent = await grant(http, factory, buyer, ["SUMMARY"])
        await revoke(http, factory, consent["id"])
        for ws in (as_factory, as_auditor):
            first = await _next_data(ws, "consentEvents")
            second = await _next_data(ws, "consentEvents")
            assert (first["type"], second["type"]) == ("GRANTED", "REVOKED")
            assert second["seq"] == consent["ledgerSeq"] + 1
            assert second["reason"] == "contract ended"
            assert first["buyerId"] == str(buyer.org.id)


async def test_a_socket_needs_a_valid_token_and_ends_when_it_expires(
    actors: Actors, database_url: str, key_file: Path, settings: Any
) -> None:

    from hub.auth import keys as signing_keys
    from hub.auth.server import ClientRecord
    from hub.auth.tokens import HubTokenGenerator

    buyer = actors[Role.BUYER]
    generator = HubTokenGenerator(settings, signing_keys.load_or_create(key_file), lifetime=2)
    record = ClientRecord(buyer.client_id, "", buyer.org.id, Role.BUYER, False)
    short = generator(grant_type="client_credentials", client=record, include_refresh_token=False)
    async with hub_server(database_url, key_file) as (a, _):
        url = a.replace("http://", "ws://") + "/graphql"
        # no token at all: refused at connection_init
        from websockets.asyncio.client import connect

        async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            with pytest.raises(ConnectionClosed) as closed:
                await receive(ws)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4403
        # a forged token in the header: refused at the upgrade
        with pytest.raises(InvalidStatus):
            async with graphql_socket(a, buyer.token[:-4] + "AAAA", in_header=True):
                pass
        # a token that lapses: the subscription ends UNAUTHENTICATED, then the socket closes
        async with graphql_socket(a, short["access_token"]) as ws:
            await start(ws, UPDATES)
            ended = await receive(ws, wait=10)
            assert ended["type"] == "next", ended
            assert ended["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            assert (await receive(ws))["type"] == "complete"
            with pytest.raises(ConnectionClosed):
                await receive(ws, wait=10)


async def test_open_subscriptions_hold_no_database_connection(
    actors: Actors, database_url: str, key_file: Path
) -> None:
    """More subscriptions than the pool has connections, and queries still answer at once;
    a query sent over the same socket runs in its own transaction."""
    buyer = actors[Role.BUYER]
    async with (
        hub_server(database_url, key_file, HUB_DB_POOL_SIZE="2") as (a, _),
        graphql_socket(a, buyer.token) as ws,
        httpx.AsyncClient(base_url=a, timeout=5) as http,
    ):
        for n in range(8):
            await start(ws, UPDATES, op_id=f"s{n}")
        await asyncio.sleep(0.5)
        answered = await gql(http, "{ viewer { role } }", actor=buyer)
        assert answered["data"] == {"viewer": {"role": "BUYER"}}
        await start(ws, "{ viewer { role } }", op_id="q")
        over_socket = await receive(ws)
        assert over_socket["id"] == "q"
        assert over_socket["payload"]["data"] == {"viewer": {"role": "BUYER"}}
        assert (await receive(ws))["type"] == "complete"
