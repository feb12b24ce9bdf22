"""The strawberry ASGI view: builds the typed Context for each operation."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import orjson
from cross_web import HTTPException
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from hub.auth.principal import Principal
from hub.authz.service import Authorizer, RequestAuthz
from hub.config import Settings
from hub.directory.models import Role
from hub.disclosures.recorder import DisclosureRecorder
from hub.errors import Unauthenticated
from hub.events.feed import EventFeed
from hub.graphql.context import Context, RequestDatabase
from hub.graphql.errors import with_code
from hub.graphql.loaders import Loaders
from hub.graphql.reuse import AnswerReuse

# a socket that has not (yet) shown a token: expired from the start, so nothing can run as it
NOBODY = Principal(org_id=uuid.UUID(int=0), role=Role.BUYER, subject="", token_id="", expires_at=0)


class HubGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        schema: Any,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        authorizer: Authorizer,
        verifier: Callable[[str], Principal],
        feed: EventFeed | None = None,
        reuse: AnswerReuse | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide=None if settings.production else "graphiql",
            allow_queries_via_get=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=20,
        )
        self.settings = settings
        self.sessions = sessions
        self.authorizer = authorizer
        self.verifier = verifier
        self.feed = feed
        self.reuse = reuse

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
        if self.reuse is not None and scope["type"] == "http" and scope["method"] == "POST":
            if await self.reuse.answer(scope, send):
                return
            send = self.reuse.keeper(scope, send)
        await super().__call__(scope, receive, send)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        try:
            body = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise HTTPException(400, "Unable to parse request body as JSON") from None
        if isinstance(body, dict) and "documentId" in body:
            # a trusted document by its id: strawberry passes extensions on to the operation
            # (hub.graphql.trusted), not unknown top-level keys
            extensions = body.get("extensions")
            extensions = extensions if isinstance(extensions, dict) else {}
            body["extensions"] = {**extensions, "documentId": body.pop("documentId")}
        return body

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
            if not isinstance(request, WebSocket):
                # the middleware lets no operation through without a token; fail closed anyway
                raise HTTPException(401, "an access token is required")
            principal = NOBODY  # on_ws_connect verifies the token of connection_init
        return self._context(principal, request, response)

    async def execute_as(
        self,
        principal: Principal,
        request: Request,
        query: str,
        variables: dict[str, Any] | None = None,
    ) -> tuple[ExecutionResult, Response]:
        """Run one operation for a caller known by other means (the console's signed-in
        person), through the same schema, checks, transaction and disclosure record as
        /graphql. The response carries what the operation set (status, Retry-After)."""
        response = Response()
        context = self._context(principal, request, response)
        result = await self.schema.execute(query, variable_values=variables, context_value=context)
        if result.errors:
            result.errors = [with_code(e) for e in result.errors]
        return result, response

    def _context(
        self, principal: Principal, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        db = RequestDatabase(self.sessions)
        # given by hub.ops.logs.RequestLog (a bare app in tests may run without it)
        request_id = request.scope.get("state", {}).get("request_id") or uuid.uuid4().hex
        context = Context(
            principal=principal,
            settings=self.settings,
            db=db,
            request_id=request_id,
            loaders=Loaders(db.session),
            authz=RequestAuthz(self.authorizer, principal),
            disclosures=DisclosureRecorder(None, request_id),
            request=request,
            response=response,
            feed=self.feed,
        )
        self._as(context, principal)
        return context

    def _as(self, context: Context, principal: Principal) -> None:
        context.principal = principal
        context.authz = RequestAuthz(self.authorizer, principal)
        context.disclosures = DisclosureRecorder.of(principal, context.request_id)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """graphql-transport-ws: a token from the upgrade's header, or else from
        connection_init's payload ({"Authorization": "Bearer …"}); the socket closes when it
        expires (each subscription also ends then by itself)."""
        if context.principal is NOBODY:
            params = getattr(context, "connection_params", None) or {}
            header = params.get("Authorization") or params.get("authorization") or ""
            scheme, _, token = str(header).partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise ConnectionRejectionError({"message": "an access token is required"})
            try:
                self._as(context, self.verifier(token.strip()))
            except Unauthenticated as exc:
                raise ConnectionRejectionError({"message": exc.message}) from None
        socket = context.response
        if isinstance(socket, WebSocket):
            # a second after expiry: each subscription first ends itself with UNAUTHENTICATED
            left = max(0.0, context.principal.expires_at - time.time()) + 1.0
            asyncio.get_running_loop().call_later(
                left, lambda: asyncio.ensure_future(_close_expired(socket))
            )
        unset: UnsetType = UNSET
        return unset


async def _close_expired(socket: WebSocket) -> None:
    with contextlib.suppress(Exception):  # closed already
        await socket.close(code=4401, reason="token expired")
