"""Builders (make_*) and small clients for tests. No mocks: real rows, real tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from hub.directory.models import Factory, Organization, Role
from hub.directory.service import DirectoryService, NewFactory, NewOrganization


@dataclass
class Actor:
    org: Organization
    client_id: str
    client_secret: str
    token: str
    factory: Factory | None = None

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
