"""Webhooks delivered to a real local HTTP receiver: signed, retried with backoff, idempotent,
disabled after the failure window (time compressed by configuration), never for a change that
rolled back, and not lost when the process that made the change dies."""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks.webhooks import Webhook

from hub.config import Settings
from hub.directory.models import Role
from tests.conftest import _libpq, make_settings
from tests.e2e.servers import hub_server
from tests.events.receiver import Received, webhook_receiver
from tests.helpers import (
    Actors,
    error_codes,
    gql,
    grant,
    make_actor,
    make_published_assessment,
    revoke,
)

REGISTER = (
    "mutation($u: String!, $e: [String!]!) "
    "{ registerWebhook(url: $u, events: $e) { id url events secret } }"
)
DELIVERIES = (
    "query($w: ID) { webhookDeliveries(webhookId: $w) { totalCount edges { node "
    "{ eventId type status attempts lastStatusCode lastError } } } }"
)
README = Path(__file__).resolve().parents[2] / "README.md"
ALL_CONSENT = ["consent.requested", "consent.granted", "consent.revoked", "consent.declined"]


@pytest.fixture
def settings(database_url: str, key_file: Path) -> Settings:
    # a day of retries compressed into seconds
    return make_settings(
        database_url,
        key_file,
        HUB_WEBHOOK_RETRY_BASE="0.3",
        HUB_WEBHOOK_RETRY_MAX="1",
        HUB_WEBHOOK_WINDOW="4",
        HUB_WEBHOOK_POLL="0.05",
        HUB_WEBHOOK_TIMEOUT="2",
    )


async def register(
    http: httpx.AsyncClient, actor: Any, url: str, events: list[str]
) -> dict[str, Any]:
    body = await gql(http, REGISTER, {"u": url, "e": events}, actor=actor)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["registerWebhook"]
    return result


def verified(secret: str, delivery: Received) -> dict[str, Any]:
    """What a receiver does: the Standard Webhooks check, then the JSON."""
    payload: dict[str, Any] = Webhook(secret).verify(delivery.body, delivery.headers)
    return payload


async def test_a_grant_is_delivered_signed_with_ids_only(
    http: httpx.AsyncClient, actors: Actors, session: AsyncSession
) -> None:
    factory, buyer = actors[Role.FACTORY], actors[Role.BUYER]
    async with webhook_receiver() as receiver:
        hook = await register(http, buyer, receiver.url(), ALL_CONSENT)
        assert hook["secret"].startswith("whsec_")
        consent = await grant(http, factory, buyer, ["SUMMARY"])
        [delivery] = await receiver.wait_for("/hook", 1)
    event = verified(hook["secret"], delivery)
    assert event["type"] == "consent.granted"
    assert event["data"] == {
        "consentId": consent["id"],
        "factoryId": str(factory.factory.id if factory.factory else ""),
        "buyerId": str(buyer.org.id),
        "status": "GRANTED",
        "ledgerSeq": consent["ledgerSeq"],
    }
    assert uuid.UUID(delivery.headers["webhook-id"])
    # a forged body fails the same check
    forged = Received(delivery.at, delivery.path, delivery.headers, delivery.body + b" ")
    with pytest.raises(Exception, match="signature"):
        verified(hook["secret"], forged)
    listed = await gql(http, DELIVERIES, {"w": hook["id"]}, actor=buyer)
    [node] = [e["node"] for e in listed["data"]["webhookDeliveries"]["edges"]]
    assert node["status"] == "DELIVERED"
    assert (node["attempts"], node["lastStatusCode"]) == (1, 200)
    assert node["eventId"] == delivery.headers["webhook-id"]
    # the secret is not in the database as such (encrypted with a key kept outside it)
    raw = await session.connection()
    stored = (await raw.exec_driver_sql("SELECT secret FROM webhook_endpoints")).scalar_one()
    assert hook["secret"].encode() not in bytes(stored)
    # nobody else sees this webhook or its deliveries
    other = await gql(http, DELIVERIES, {"w": hook["id"]}, actor=actors[Role.FACTORY])
    assert other["data"]["webhookDeliveries"]["totalCount"] == 0


async def test_failures_are_retried_with_backoff_under_one_event_id(
    http: httpx.AsyncClient, actors: Actors
) -> None:
    factory, buyer = actors[Role.FACTORY], actors[Role.BUYER]
    async with webhook_receiver() as receiver:
        receiver.script["/flaky"] = [500, 500, 503]
        hook = await register(http, buyer, receiver.url("/flaky"), ["consent.granted"])
        await grant(http, factory, buyer, ["SUMMARY"])
        tries = await receiver.wait_for("/flaky", 4)
    assert len({t.headers["webhook-id"] for t in tries}) == 1  # the same event each time
    for t in tries:
        verified(hook["secret"], t)  # each attempt freshly signed
    gaps = [b.at - a.at for a, b in itertools.pairwise(tries)]
    # 0.3 s doubling (±20 %), capped at 1 s
    assert 0.2 < gaps[0] < gaps[1], gaps
    listed = await gql(http, DELIVERIES, {"w": hook["id"]}, actor=buyer)
    [node] = [e["node"] for e in listed["data"]["webhookDeliveries"]["edges"]]
    assert (node["status"], node["attempts"], node["lastStatusCode"]) == ("DELIVERED", 4, 200)


async def test_an_endpoint_failing_for_the_window_is_disabled_with_a_notice(
    http: httpx.AsyncClient, actors: Actors
) -> None:
    factory, buyer = actors[Role.FACTORY], actors[Role.BUYER]
    async with webhook_receiver() as receiver:
        receiver.script["/down"] = [500] * 1000
        hook = await register(http, buyer, receiver.url("/down"), ["consent.granted"])
        notices = await register(http, buyer, receiver.url("/notices"), ["webhook.disabled"])
        await grant(http, factory, buyer, ["SUMMARY"])
        [notice] = await receiver.wait_for("/notices", 1, within=20)
    event = verified(notices["secret"], notice)
    assert event == {
        "type": "webhook.disabled",
        "timestamp": event["timestamp"],
        "data": {"webhookId": hook["id"]},
    }
    hooks = await gql(http, "{ webhooks { id status disabledReason failingSince } }", actor=buyer)
    [down] = [w for w in hooks["data"]["webhooks"] if w["id"] == hook["id"]]
    assert down["status"] == "DISABLED"
    assert "every delivery failed" in down["disabledReason"]
    listed = await gql(http, DELIVERIES, {"w": hook["id"]}, actor=buyer)
    [node] = [e["node"] for e in listed["data"]["webhookDeliveries"]["edges"]]
    assert node["status"] == "FAILED"
    assert node["attempts"] >= 3
    # back in service on request
    enabled = await gql(
        http,
        "mutation($i: ID!) { enableWebhook(id: $i) { status } }",
        {"i": hook["id"]},
        actor=buyer,
    )
    assert enabled["data"]["enableWebhook"]["status"] == "ACTIVE"


async def test_nothing_is_sent_for_a_change_that_rolled_back(
    http: httpx.AsyncClient, actors: Actors
) -> None:
    factory, buyer = actors[Role.FACTORY], actors[Role.BUYER]
    async with webhook_receiver() as receiver:
        await register(http, buyer, receiver.url(), ALL_CONSENT)
        # one operation, one transaction: the grant succeeds, the revocation fails, all rolls back
        failed = await gql(
            http,
            "mutation($b: ID!, $c: ID!) { a: grantConsent(buyerId: $b, scopes: [SUMMARY]) { id } "
            "b: revokeConsent(consentId: $c) { id } }",
            {"b": str(buyer.org.id), "c": str(uuid.uuid4())},
            actor=factory,
        )
        assert error_codes(failed) == ["NOT_FOUND"]
        # then a change that stands: it is the first and only delivery
        consent = await grant(http, factory, buyer, ["FINDINGS"])
        [only] = await receiver.wait_for("/hook", 1)
        await revoke(http, factory, consent["id"])
        both = await receiver.wait_for("/hook", 2)
    assert json.loads(only.body)["data"]["consentId"] == consent["id"]
    assert [json.loads(d.body)["type"] for d in both] == ["consent.granted", "consent.revoked"]


async def test_buyers_hear_of_publications_only_under_consent(
    http: httpx.AsyncClient, actors: Actors, session: AsyncSession
) -> None:
    factory, buyer = actors[Role.FACTORY], actors[Role.BUYER]
    outsider = await make_actor(session, http, Role.BUYER)
    assert factory.factory is not None
    async with webhook_receiver() as receiver:
        await register(http, buyer, receiver.url("/consented"), ["assessment.published"])
        await register(http, outsider, receiver.url("/outsider"), ["assessment.published"])
        await register(http, factory, receiver.url("/factory"), ["assessment.published"])
        await grant(http, factory, buyer, ["SUMMARY"])
        assessment = await make_published_assessment(http, actors[Role.ASSESSOR], factory.factory)
        [seen] = await receiver.wait_for("/consented", 1)
        await receiver.wait_for("/factory", 1)
    assert json.loads(seen.body)["data"]["assessmentId"] == assessment
    assert receiver.at("/outsider") == []


async def test_registration_is_checked(
    http: httpx.AsyncClient, actors: Actors, database_url: str, key_file: Path
) -> None:
    buyer = actors[Role.BUYER]
    refused = await gql(http, REGISTER, {"u": "http://x.test/", "e": ["nope"]}, actor=buyer)
    assert error_codes(refused) == ["BAD_USER_INPUT"]
    refused = await gql(http, REGISTER, {"u": "ftp://x.test/", "e": ALL_CONSENT}, actor=buyer)
    assert error_codes(refused) == ["BAD_USER_INPUT"]
    refused = await gql(
        http, REGISTER, {"u": "https://x.test/", "e": ALL_CONSENT}, actor=actors[Role.ASSESSOR]
    )
    assert error_codes(refused) == ["FORBIDDEN"]
    gone = await gql(
        http,
        "mutation($i: ID!) { deleteWebhook(id: $i) }",
        {"i": str(uuid.uuid4())},
        actor=buyer,
    )
    assert gone["data"]["deleteWebhook"] is False


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",  # not https
        "https://127.0.0.1/hook",
        "https://localhost/hook",  # a name that resolves to loopback
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",  # cloud metadata, link-local
        "https://[::1]/hook",
        "https://[::ffff:192.168.0.1]/hook",  # IPv4-mapped private
        "https://100.64.0.1/hook",  # shared address space
        "https://user:pw@8.8.8.8/hook",
    ],
)
async def test_production_refuses_urls_that_reach_inside(url: str) -> None:
    from hub.errors import BadUserInput
    from hub.webhooks.urls import resolve

    with pytest.raises(BadUserInput):
        await resolve(url, production=True, allow_private=False)


async def test_production_accepts_a_public_address() -> None:
    from hub.webhooks.urls import resolve

    target = await resolve("https://8.8.8.8:8443/h", production=True, allow_private=False)
    assert (target.address, target.port) == ("8.8.8.8", 8443)


async def test_the_outbox_is_drained_after_the_process_that_committed_dies(
    http: httpx.AsyncClient, actors: Actors, database_url: str, key_file: Path
) -> None:
    factory, buyer = actors[Role.FACTORY], actors[Role.BUYER]
    fast = {"HUB_WEBHOOK_POLL": "0.05", "HUB_DATA_DIR": str(key_file.parent)}
    async with webhook_receiver() as receiver:
        hook = await register(http, buyer, receiver.url(), ["consent.granted"])
        # this process commits the grant but sends nothing, then dies without a goodbye
        async with (
            hub_server(database_url, key_file, HUB_WEBHOOK_DELIVERY="0", **fast) as (base, proc),
            httpx.AsyncClient(base_url=base) as via,
        ):
            consent = await grant(via, factory, buyer, ["SUMMARY"])
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        conn = await asyncpg.connect(_libpq(database_url))
        try:
            waiting = await conn.fetchval("SELECT count(*) FROM events WHERE fanned_out_at IS NULL")
        finally:
            await conn.close()
        assert waiting >= 1
        # the next process to start sends it
        async with hub_server(database_url, key_file, **fast):
            [delivery] = await receiver.wait_for("/hook", 1)
    assert verified(hook["secret"], delivery)["data"]["consentId"] == consent["id"]


async def test_the_readme_example_registers_and_verifies(
    http: httpx.AsyncClient, actors: Actors, database_url: str, key_file: Path
) -> None:
    """The README's Python, run as written, against a live hub and a local receiver."""
    readme = README.read_text()
    section = readme.split("## Hearing about changes", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    factory, buyer = actors[Role.FACTORY], actors[Role.BUYER]
    fast = {"HUB_WEBHOOK_POLL": "0.05", "HUB_DATA_DIR": str(key_file.parent)}
    async with (
        webhook_receiver() as receiver,
        hub_server(database_url, key_file, **fast) as (
            base,
            _,
        ),
    ):
        code = (
            code.replace('"http://localhost:8000"', repr(base))
            .replace('"…a BUYER token…"', repr(buyer.token))
            .replace("https://buyer.example/hub-events", receiver.url("/hub-events"))
        )
        scope: dict[str, Any] = {}
        await asyncio.to_thread(exec, code, scope)  # the example is synchronous, as written
        await grant(http, factory, buyer, ["SUMMARY"])
        [delivery] = await receiver.wait_for("/hub-events", 1)
    event = scope["on_delivery"](delivery.body, delivery.headers)
    assert event["type"] == "consent.granted"
    assert event["data"]["buyerId"] == str(buyer.org.id)
