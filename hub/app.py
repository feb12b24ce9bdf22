"""create_app(): routes, middleware, and the lifespan that builds the engine."""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from hub.auth import keys as signing_keys
from hub.auth.middleware import BearerAuthMiddleware, TokenVerifier
from hub.auth.server import TokenEndpoint
from hub.auth.tokens import HubTokenGenerator
from hub.authz.listener import LedgerCatchUp
from hub.authz.service import Authorizer
from hub.config import Settings
from hub.consent.tasks import run_sweeper
from hub.console.authorize import AuthorizeEndpoint
from hub.console.pages import Console
from hub.db.engine import build_engine, build_sessionmaker
from hub.db.listen import NotificationListener
from hub.db.migrate import head_revision
from hub.events.feed import EventFeed
from hub.events.outbox import NOTIFY_CHANNEL as EVENTS_CHANNEL
from hub.graphql.ratelimit import ClientBudgets
from hub.graphql.response_cache import ResponseCache
from hub.graphql.reuse import AnswerReuse
from hub.graphql.schema import build_schema
from hub.graphql.view import HubGraphQL
from hub.ledger.repository import NOTIFY_CHANNEL as LEDGER_CHANNEL
from hub.ledger.signing import LedgerKey
from hub.ledger.tasks import run_integrator
from hub.ops.guard import RequestGuard
from hub.ops.health import healthz, readyz
from hub.ops.logs import RequestLog
from hub.webhooks.dispatcher import WebhookDispatcher
from hub.webhooks.secrets import box_at

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> Starlette:
    """The ASGI app. With no settings, from the environment (as uvicorn workers start it)."""
    served = settings is None
    settings = settings or Settings.from_env()
    # "Did you mean …?" in validation errors maps the schema for a stranger (graphql-core reads
    # this module global at each error)
    suggestions = importlib.import_module("graphql.pyutils.did_you_mean")
    suggestions.MAX_LENGTH = 0 if settings.production else 5  # type: ignore[attr-defined]
    if not settings.database_url:
        raise RuntimeError("create_app needs DATABASE_URL; `hub serve` resolves it")
    keys = signing_keys.load_or_create(settings.signing_key_file)
    engine = build_engine(settings)
    sessions = build_sessionmaker(engine)
    generator = HubTokenGenerator(settings, keys)
    authorizer = Authorizer()
    entries = settings.response_cache_entries
    cache = ResponseCache(entries) if entries else None
    verifier = TokenVerifier(keys.verification_keys(), settings)
    feed = EventFeed(sessions, authorizer)
    budgets = ClientBudgets(settings)
    schema = build_schema(settings, cache is not None, budgets)
    reuse = AnswerReuse(cache, engine, authorizer, budgets) if cache is not None else None
    graphql = HubGraphQL(schema, settings, sessions, authorizer, verifier, feed, reuse)

    dispatcher = WebhookDispatcher(
        sessions, authorizer, box_at(settings.webhook_key_file), settings
    )

    async def on_events() -> None:
        dispatcher.events_committed()
        await feed.poll()

    listener = NotificationListener(
        settings.libpq_url,
        {LEDGER_CHANNEL: LedgerCatchUp(sessions, authorizer), EVENTS_CHANNEL: on_events},
    )
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
            if settings.webhook_delivery:
                tasks.append(asyncio.create_task(dispatcher.run(), name="webhook-dispatcher"))
            if settings.checkpoint_interval:
                integrator = run_integrator(
                    sessions, ledger_key, settings.ledger_origin, settings.checkpoint_interval
                )
                tasks.append(asyncio.create_task(integrator, name="checkpoint-integrator"))
        if served:
            # what is alive now (modules, schema, mappers: ~150,000 objects) lives as long as
            # the process; frozen, a full collection no longer walks it, which stalled every
            # request on this process for 50-120 ms whenever one ran under load
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            if tasks:
                # a task stuck in a network call must not hold the shutdown
                _, stuck = await asyncio.wait(tasks, timeout=3)
                for task in stuck:
                    log.warning("background task %s did not stop in time", task.get_name())
            await engine.dispose()

    async def jwks(request: Request) -> JSONResponse:
        # the verifier's keys: those of the key file, taken up again after a rotation
        verifier.reload()
        return JSONResponse(verifier.public_jwks(), headers={"cache-control": "max-age=300"})

    console = Console(settings, sessions, graphql, ledger_key)
    tokens = TokenEndpoint(settings, sessions, generator)
    app = Starlette(
        routes=[
            *console.routes(),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/oauth/token", tokens.handle, methods=["POST"]),
            Route(
                "/oauth/authorize",
                AuthorizeEndpoint(settings, sessions, generator, tokens).handle,
                methods=["GET", "POST"],
            ),
            Route("/.well-known/jwks.json", jwks, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        # outermost first: every line logged under a request carries its id; the guard needs
        # the principal the token middleware found
        middleware=[
            Middleware(RequestLog, enabled=settings.access_log),
            Middleware(BearerAuthMiddleware, verifier=verifier),
            Middleware(RequestGuard, settings=settings, budgets=budgets),
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
    app.state.event_feed = feed
    app.state.webhook_dispatcher = dispatcher
    app.state.ledger_key = ledger_key
    app.state.head_revision = head_revision()
    return app
