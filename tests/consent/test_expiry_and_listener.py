"""Expiry binds at once and the sweeper records it; NOTIFY keeps other processes current."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from hub.app import create_app
from hub.consent.models import Consent, ConsentStatus
from hub.consent.tasks import expire_once
from hub.directory.models import Role
from hub.ledger.models import ConsentLogEntry
from tests.conftest import make_settings
from tests.helpers import Actors, error_codes, gql, grant, make_published_assessment, revoke

SUMMARY = "query($id: ID!) { factory(id: $id) { access latestAssessment { id } } }"


async def test_a_grant_stops_at_its_expiry_before_the_sweeper_runs(
    http: httpx.AsyncClient, app: Starlette, actors: Actors, session: AsyncSession
) -> None:
    factory = actors[Role.FACTORY].factory
    assert factory is not None
    await make_published_assessment(http, actors[Role.ASSESSOR], factory)
    expires = datetime.now(UTC) + timedelta(seconds=1.5)
    granted = await grant(
        http, actors[Role.FACTORY], actors[Role.BUYER], ["SUMMARY"], expires_at=expires.isoformat()
    )
    seen = await gql(http, SUMMARY, {"id": str(factory.id)}, actor=actors[Role.BUYER])
    assert seen["data"]["factory"]["latestAssessment"] is not None

    await asyncio.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.1)
    refused = await gql(http, SUMMARY, {"id": str(factory.id)}, actor=actors[Role.BUYER])
    assert refused["data"]["factory"] == {"access": [], "latestAssessment": None}
    assert error_codes(refused) == ["FORBIDDEN"]

    sessions = app.state.sessions
    assert await expire_once(sessions, app.state.authorizer) == 1
    assert await expire_once(sessions, app.state.authorizer) == 0
    consent = await session.get(Consent, uuid.UUID(granted["id"]))
    assert consent is not None
    await session.refresh(consent)
    assert consent.status is ConsentStatus.EXPIRED
    last = (
        await session.execute(select(ConsentLogEntry).order_by(ConsentLogEntry.seq.desc()).limit(1))
    ).scalar_one()
    assert last.event_type == "EXPIRED"
    assert last.actor_id == uuid.UUID(int=0)


@pytest.fixture
async def second_app(database_url: str, key_file: Path) -> AsyncIterator[Starlette]:
    app = create_app(make_settings(database_url, key_file))
    async with LifespanManager(app):
        yield app


async def test_notify_brings_another_process_up_to_date(
    http: httpx.AsyncClient, actors: Actors, second_app: Starlette
) -> None:
    listener = second_app.state.listener
    await asyncio.wait_for(listener.connected.wait(), 10)
    authorizer = second_app.state.authorizer
    start = authorizer.revision
    granted = await grant(http, actors[Role.FACTORY], actors[Role.BUYER], ["SUMMARY"])
    await revoke(http, actors[Role.FACTORY], granted["id"])
    for _ in range(100):  # no request reaches the second app: only NOTIFY can move it
        if authorizer.revision >= start + 2:
            break
        await asyncio.sleep(0.05)
    assert authorizer.revision == start + 2
    assert authorizer.buyer_grants(actors[Role.BUYER].principal) == {}
