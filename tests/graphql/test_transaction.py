"""One transaction per operation, decided by TransactionExtension from the result: a mutation
without errors commits; a mutation with any error, or a query, leaves nothing behind."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import strawberry
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.routing import Route

from hub.auth import keys as signing_keys
from hub.auth.middleware import BearerAuthMiddleware, TokenVerifier
from hub.authz.service import Authorizer
from hub.config import Settings
from hub.db.engine import build_engine, build_sessionmaker
from hub.directory.models import Organization, Role
from hub.directory.service import DirectoryService, NewOrganization
from hub.errors import Conflict
from hub.graphql.context import Info
from hub.graphql.errors import CodedErrors
from hub.graphql.schema import Query
from hub.graphql.transaction import TransactionExtension
from hub.graphql.view import HubGraphQL
from tests.helpers import Actors, error_codes, gql


async def _add_org(info: Info, name: str) -> None:
    async with info.context.db.session() as session:
        await DirectoryService(session).create_organization(NewOrganization(Role.BUYER, name))


@strawberry.type
class Probe:
    @strawberry.mutation
    async def add(self, info: Info, name: str) -> bool:
        await _add_org(info, name)
        return True

    @strawberry.mutation
    async def add_then_conflict(self, info: Info, name: str) -> bool:
        await _add_org(info, name)
        raise Conflict("refused after writing")

    @strawberry.mutation
    async def add_then_crash(self, info: Info, name: str) -> bool:
        await _add_org(info, name)
        raise RuntimeError("a bug after writing")


@strawberry.type
class ProbeQuery(Query):
    @strawberry.field
    async def add_in_a_query(self, info: Info, name: str) -> bool:
        await _add_org(info, name)
        return True


@pytest.fixture
async def probe_http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    schema = strawberry.Schema(
        query=ProbeQuery, mutation=Probe, extensions=[TransactionExtension, CodedErrors]
    )
    engine = build_engine(settings)
    keys = signing_keys.load_or_create(settings.signing_key_file)
    verifier = TokenVerifier(keys.verification_keys(), settings)
    view = HubGraphQL(schema, settings, build_sessionmaker(engine), Authorizer(), verifier)
    app = Starlette(routes=[Route("/graphql", view, methods=["POST"])])
    wrapped = BearerAuthMiddleware(app, verifier)
    transport = httpx.ASGITransport(app=wrapped)  # type: ignore[arg-type]
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client,
    ):
        yield client
    await engine.dispose()


async def _named(session: AsyncSession, name: str) -> int:
    query = select(func.count()).select_from(Organization).where(Organization.name == name)
    return int((await session.execute(query)).scalar_one())


async def test_successful_mutation_commits(
    probe_http, actors: Actors, session: AsyncSession
) -> None:
    body = await gql(probe_http, 'mutation { add(name: "kept") }', actor=actors[Role.ADMIN])
    assert body["data"] == {"add": True}
    assert await _named(session, "kept") == 1


async def test_expected_failure_rolls_back(
    probe_http, actors: Actors, session: AsyncSession
) -> None:
    body = await gql(
        probe_http, 'mutation { addThenConflict(name: "gone") }', actor=actors[Role.ADMIN]
    )
    assert error_codes(body) == ["CONFLICT"]
    assert await _named(session, "gone") == 0


async def test_crash_rolls_back_and_is_masked(
    probe_http, actors: Actors, session: AsyncSession
) -> None:
    body = await gql(
        probe_http, 'mutation { addThenCrash(name: "gone") }', actor=actors[Role.ADMIN]
    )
    assert error_codes(body) == ["INTERNAL_SERVER_ERROR"]
    assert "bug" not in body["errors"][0]["message"]
    assert await _named(session, "gone") == 0


async def test_one_failing_field_rolls_back_the_whole_mutation(
    probe_http, actors: Actors, session: AsyncSession
) -> None:
    body = await gql(
        probe_http,
        'mutation { a: add(name: "first") b: addThenConflict(name: "second") }',
        actor=actors[Role.ADMIN],
    )
    assert error_codes(body) == ["CONFLICT"]
    assert await _named(session, "first") == 0
    assert await _named(session, "second") == 0


async def test_queries_never_commit(probe_http, actors: Actors, session: AsyncSession) -> None:
    body = await gql(probe_http, '{ addInAQuery(name: "read-only") }', actor=actors[Role.ADMIN])
    assert body["data"] == {"addInAQuery": True}
    assert await _named(session, "read-only") == 0
