"""graphql-cop's checks (it is not on PyPI), as tests against the app in production mode: each
probe a scanner sends must be refused before it costs anything or reveals the schema."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from hub.app import create_app
from hub.directory.models import Role
from tests.conftest import make_settings
from tests.helpers import Actors, error_codes, gql


@pytest.fixture
async def prod(
    database_url: str, key_file: Path, actors: Actors
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(database_url, key_file, HUB_PRODUCTION="1"))
    try:
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://hub.test", headers=actors[Role.BUYER].headers
            ) as client:
                yield client
    finally:
        create_app(make_settings(database_url, key_file))  # development defaults back


async def test_alias_overloading(prod: httpx.AsyncClient) -> None:
    query = "{ " + " ".join(f"a{i}: viewer {{ id }}" for i in range(101)) + " }"
    assert error_codes(await gql(prod, query)) == ["QUERY_TOO_COMPLEX"]


async def test_field_duplication(prod: httpx.AsyncClient) -> None:
    query = "{ viewer { " + "id " * 2500 + "} }"
    assert error_codes(await gql(prod, query)) == ["QUERY_TOO_COMPLEX"]


async def test_directive_overloading(prod: httpx.AsyncClient) -> None:
    query = "{ viewer { id " + "@aa" * 500 + " } }"
    body = await gql(prod, query)
    assert body.get("data") is None
    assert set(error_codes(body)) <= {"QUERY_TOO_COMPLEX", "BAD_USER_INPUT"}


async def test_introspection_and_its_circular_query(prod: httpx.AsyncClient) -> None:
    body = await gql(prod, "{ __schema { types { name } } }")
    assert body.get("data") is None
    assert set(error_codes(body)) == {"BAD_USER_INPUT"}
    circular = "{ __schema { types { fields { type { fields { type { fields { type { name } } } } } } } } }"
    assert (await gql(prod, circular)).get("data") is None


async def test_graphiql_is_not_served(prod: httpx.AsyncClient) -> None:
    page = await prod.get("/graphql", headers={"accept": "text/html"})
    assert "graphiql" not in page.text.lower()
    assert page.status_code >= 400


async def test_queries_and_mutations_over_get_are_refused(prod: httpx.AsyncClient) -> None:
    for query in ("{ viewer { id } }", 'mutation { deleteWebhook(id: "x") }'):
        r = await prod.get("/graphql", params={"query": query})
        assert r.status_code >= 400
        assert "data" not in r.text or '"data":null' in r.text.replace(" ", "")


async def test_url_encoded_posts_are_refused(prod: httpx.AsyncClient) -> None:
    r = await prod.post("/graphql", data={"query": "{ viewer { id } }"})
    assert r.status_code >= 400
    assert "viewer" not in r.text


async def test_no_tracing_and_no_suggestions(prod: httpx.AsyncClient) -> None:
    ok = await gql(prod, "{ viewer { id } }")
    assert "extensions" not in ok or "tracing" not in ok.get("extensions", {})
    typo = await gql(prod, "{ viewr { id } }")
    assert "Did you mean" not in str(typo)
