"""Engine and sessions. The engine is built in the app's lifespan, never at import time."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from hub.config import Settings
from hub.db.embedded import start_embedded


def resolve_database_url(settings: Settings) -> Settings:
    """Settings with a database: DATABASE_URL if set, else the embedded server."""
    if settings.database_url:
        return settings
    url = start_embedded(settings.data_dir / "pgdata")
    return settings.with_database(url)


def build_engine(settings: Settings) -> AsyncEngine:
    if not settings.database_url:
        raise RuntimeError("build_engine needs a resolved database URL")
    return create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=0,
        # no ping at checkout: asyncpg's is three round trips (BEGIN, ";", ROLLBACK), as many
        # as the rest of a cached answer. A connection the server dropped fails its request
        # cleanly (503, hub.db.faults), and SQLAlchemy then replaces every pooled connection
        # older than that failure (the default: the whole pool is invalidated on a disconnect)
        pool_pre_ping=False,
        # a database error's message must not carry the values of the statement (names,
        # reasons, secrets' ciphertexts) into a log
        hide_parameters=True,
        connect_args={
            "server_settings": {
                "application_name": "compliance-hub",
                # no statement runs away with a connection (the request deadline stops the
                # request; this stops its query on the server too)
                "statement_timeout": str(int(settings.statement_timeout * 1000)),
            }
        },
    )


def build_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
