"""The strawberry ASGI view: builds the typed Context for each operation."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from cross_web import HTTPException
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from hub.authz.service import Authorizer, RequestAuthz
from hub.config import Settings
from hub.directory.models import Role
from hub.disclosures.recorder import DisclosureRecorder
from hub.graphql.context import Context, RequestDatabase
from hub.graphql.errors import with_code
from hub.graphql.loaders import Loaders


class HubGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        schema: Any,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        authorizer: Authorizer,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide=None if settings.production else "graphiql",
            allow_queries_via_get=False,
        )
        self.settings = settings
        self.sessions = sessions
        self.authorizer = authorizer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The GraphiQL page is static and needs no token; strawberry would build the (token
        # bound) context before rendering it, so serve it here.
        if (
            self.graphql_ide
            and scope["type"] == "http"
            and scope["method"] == "GET"
            and b"query=" not in scope.get("query_string", b"")
        ):
            response = await self.render_graphql_ide(Request(scope, receive))
            await response(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            raise HTTPException(400, "Unable to parse request body as JSON") from None

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if result.errors:
            result.errors = [with_code(e) for e in result.errors]
        return await super().process_result(request, result)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        principal = request.state.principal if hasattr(request.state, "principal") else None
        if principal is None:
            # the middleware lets no operation through without a token; fail closed anyway
            raise HTTPException(401, "an access token is required")
        db = RequestDatabase(self.sessions)
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        return Context(
            principal=principal,
            settings=self.settings,
            db=db,
            request_id=request_id[:64],
            loaders=Loaders(db.session),
            authz=RequestAuthz(self.authorizer, principal),
            disclosures=DisclosureRecorder(
                principal.org_id if principal.role is Role.BUYER else None, request_id[:64]
            ),
            request=request,
            response=response,
        )
