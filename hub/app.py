"""create_app(): routes, middleware, and the lifespan that builds the engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hub.auth import keys as signing_keys
from hub.auth.middleware import BearerAuthMiddleware
from hub.auth.server import TokenEndpoint
from hub.auth.tokens import HubTokenGenerator
from hub.authz.listener import LedgerListener
from hub.authz.service import Authorizer
from hub.config import Settings
from hub.consent.tasks import run_sweeper
from hub.db.engine import build_engine, build_sessionmaker
from hub.db.migrate import head_revision
from hub.graphql.response_cache import ResponseCache
from hub.graphql.schema import build_schema
from hub.graphql.view import HubGraphQL
from hub.ledger.signing import LedgerKey
from hub.ledger.tasks import run_integrator
from hub.ops.health import healthz, readyz


def create_app(settings: Settings | None = None) -> Starlette:
    """The ASGI app. With no settings, from the environment (as uvicorn workers start it)."""
    settings = settings or Settings.from_env()
    if not settings.database_url:
        raise RuntimeError("create_app needs DATABASE_URL; `hub serve` resolves it")
    keys = signing_keys.load_or_create(settings.signing_key_file)
    engine = build_engine(settings)
    sessions = build_sessionmaker(engine)
    generator = HubTokenGenerator(settings, keys)
    authorizer = Authorizer()
    entries = settings.response_cache_entries
    cache = ResponseCache(entries) if entries else None
    graphql = HubGraphQL(build_schema(settings, cache), settings, sessions, authorizer)

    listener = LedgerListener(settings.libpq_url, sessions, authorizer)
    ledger_key = LedgerKey.load_or_create(settings.ledger_key_file, settings.ledger_origin)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tasks: list[asyncio.Task[None]] = []
        async with sessions() as session:
            await authorizer.catch_up(session)  # the whole ledger, before the first request
        if settings.background:
            tasks.append(asyncio.create_task(listener.run(), name="ledger-listener"))
            if settings.sweep_interval:
                sweeper = run_sweeper(sessions, authorizer, settings.sweep_interval)
                tasks.append(asyncio.create_task(sweeper, name="expiry-sweeper"))
            if settings.checkpoint_interval:
                integrator = run_integrator(
                    sessions, ledger_key, settings.ledger_origin, settings.checkpoint_interval
                )
                tasks.append(asyncio.create_task(integrator, name="checkpoint-integrator"))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await engine.dispose()

    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse(keys.public_jwks(), headers={"cache-control": "max-age=300"})

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route(
                "/oauth/token",
                TokenEndpoint(settings, sessions, generator).handle,
                methods=["POST"],
            ),
            Route("/.well-known/jwks.json", jwks, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        middleware=[
            Middleware(BearerAuthMiddleware, keys=keys.verification_keys(), settings=settings)
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.token_generator = generator
    app.state.authorizer = authorizer
    app.state.response_cache = cache
    app.state.listener = listener
    app.state.ledger_key = ledger_key
    app.state.head_revision = head_revision()
    return app
