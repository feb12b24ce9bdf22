"""Builders (make_*) and small clients for tests. No mocks: real rows, real tokens."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy.ext.asyncio import AsyncSession

from hub.app import create_app
from hub.auth.principal import Principal
from hub.config import Settings
from hub.directory.models import Factory, Organization, Role
from hub.directory.service import DirectoryService, NewFactory, NewOrganization


def run_hub(
    settings: Settings, *args: str, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The `hub` command line, as an operator or auditor runs it, on these settings' database
    and key files."""
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "HUB_SIGNING_KEY_FILE": str(settings.signing_key_file),
        "HUB_LEDGER_KEY_FILE": str(settings.ledger_key_file),
        "HUB_DATA_DIR": str(settings.data_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "hub", *args],
        env=env,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=timeout,
        check=False,
    )


@asynccontextmanager
async def in_process(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app of these settings, served in this process (lifespan and all)."""
    application = create_app(settings)
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
            yield client


@dataclass
class Actor:
    org: Organization
    client_id: str
    client_secret: str
    token: str
    factory: Factory | None = None

    @property
    def principal(self) -> Principal:
        return Principal(self.org.id, self.org.role, self.client_id, "test", 0)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Actors:
    by_role: dict[Role, Actor] = field(default_factory=dict)

    def __getitem__(self, role: Role) -> Actor:
        return self.by_role[role]


async def make_org(
    session: AsyncSession, role: Role, name: str | None = None, country: str | None = "KH"
) -> tuple[Organization, Factory | None]:
    org, factory = await DirectoryService(session).create_organization(
        NewOrganization(role=role, name=name or f"{role.value.title()} Org", country=country)
    )
    await session.commit()
    return org, factory


async def make_factories(session: AsyncSession, specs: list[tuple[str, str]]) -> list[Factory]:
    service = DirectoryService(session)
    made = [await service.create_factory(NewFactory(name=n, country=c)) for n, c in specs]
    await session.commit()
    return made


async def fetch_token(http: httpx.AsyncClient, client_id: str, secret: str) -> str:
    response = await http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def make_actor(session: AsyncSession, http: httpx.AsyncClient, role: Role) -> Actor:
    org, factory = await make_org(session, role)
    issued = await DirectoryService(session).create_client(org.id)
    await session.commit()
    token = await fetch_token(http, issued.client.client_id, issued.secret)
    return Actor(org, issued.client.client_id, issued.secret, token, factory)


async def make_actors(session: AsyncSession, http: httpx.AsyncClient) -> Actors:
    actors = Actors()
    for role in Role:
        actors.by_role[role] = await make_actor(session, http, role)
    return actors


async def gql(
    http: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    actor: Actor | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST a GraphQL operation; returns the JSON body (data and errors)."""
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={**(actor.headers if actor else {}), **(headers or {})},
    )
    body: dict[str, Any] = response.json()
    body["_status"] = response.status_code
    return body


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


SUBMIT = """
mutation Submit($input: AssessmentInput!) {
  submitAssessment(input: $input) { id status version contentHash }
}
"""
PUBLISH = "mutation Publish($id: ID!) { publishAssessment(id: $id) { id status publishedAt } }"


def make_answers(
    country: str, noncompliant: set[str] | None = None, comment: str | None = None
) -> list[dict[str, Any]]:
    from hub.assessments.catalogue import load_catalogue

    bad = noncompliant or set()
    return [
        {"questionCode": q.code, "compliant": q.code not in bad, "comment": comment}
        for q in load_catalogue()
        if q.country in (None, country)
    ]


async def make_published_assessment(
    http: httpx.AsyncClient,
    assessor: Actor,
    factory: Factory,
    *,
    cycle: str = "2026-1",
    noncompliant: set[str] | None = None,
    plan: list[dict[str, Any]] | None = None,
    comment: str | None = None,
) -> str:
    body = await gql(
        http,
        SUBMIT,
        {
            "input": {
                "factoryId": str(factory.id),
                "cycle": cycle,
                "assessedAt": "2026-03-01",
                "answers": make_answers(factory.country, noncompliant, comment),
                "improvementPlan": plan or [],
            }
        },
        actor=assessor,
    )
    assert "errors" not in body, body
    assessment_id: str = body["data"]["submitAssessment"]["id"]
    published = await gql(http, PUBLISH, {"id": assessment_id}, actor=assessor)
    assert "errors" not in published, published
    return assessment_id


async def grant(
    http: httpx.AsyncClient, factory: Actor, buyer: Actor, scopes: list[str], **extra: Any
) -> dict[str, Any]:
    body = await gql(
        http,
        "mutation($b: ID!, $s: [ConsentScope!]!, $e: DateTime) "
        "{ grantConsent(buyerId: $b, scopes: $s, expiresAt: $e) "
        "{ id status scopes ledgerSeq expiresAt } }",
        {"b": str(buyer.org.id), "s": scopes, "e": extra.get("expires_at")},
        actor=factory,
    )
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["grantConsent"]
    return result


async def revoke(http: httpx.AsyncClient, factory: Actor, consent_id: str) -> dict[str, Any]:
    body = await gql(
        http,
        'mutation($c: ID!) { revokeConsent(consentId: $c, reason: "contract ended") '
        "{ id status ledgerSeq } }",
        {"c": consent_id},
        actor=factory,
    )
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["revokeConsent"]
    return result
