"""Bring a database to the state the hub runs on: migrations at head, catalogue in sync."""

from __future__ import annotations

import asyncio

from hub.assessments.service import CatalogueService
from hub.config import Settings
from hub.db import migrate
from hub.db.engine import build_engine, build_sessionmaker


async def sync_reference_data(settings: Settings) -> int:
    engine = build_engine(settings)
    try:
        async with build_sessionmaker(engine)() as session, session.begin():
            return await CatalogueService(session).sync()
    finally:
        await engine.dispose()


def prepare_database(settings: Settings) -> int:
    """Synchronous (Alembic runs its own loop); returns the number of catalogue questions."""
    assert settings.database_url
    migrate.upgrade(settings.database_url)
    return asyncio.run(sync_reference_data(settings))
