"""The strawberry ASGI view: builds the typed Context for each operation."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from hub.config import Settings
from hub.errors import Unauthenticated
from hub.graphql.context import Context, RequestDatabase
from hub.graphql.loaders import Loaders


class HubGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        schema: Any,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
    ) -> None:
        super().__init__(
            schema,
            graphql_ide=None if settings.production else "graphiql",
            allow_queries_via_get=False,
        )
        self.settings = settings
        self.sessions = sessions

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        principal = request.state.principal if hasattr(request.state, "principal") else None
        if principal is None:
            # the middleware lets no operation through without a token; fail closed anyway
            raise Unauthenticated("an access token is required")
        db = RequestDatabase(self.sessions)
        return Context(
            principal=principal,
            settings=self.settings,
            db=db,
            request_id=request.headers.get("x-request-id") or uuid.uuid4().hex,
            loaders=Loaders(db.session),
            request=request,
            response=response,
        )
