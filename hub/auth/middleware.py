"""Bearer-token verification as a plain ASGI middleware (authlib has no Starlette resource
server). Every GraphQL operation needs a valid token; the GraphiQL page itself does not."""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from urllib.parse import parse_qs

from joserfc.jwk import KeySet
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.auth.principal import Principal
from hub.auth.tokens import EXPIRY_LEEWAY, verify_access_token
from hub.config import Settings
from hub.errors import Unauthenticated

PROTECTED_PREFIX = "/graphql"


class VerifiedTokens:
    """Tokens already verified, until they expire: a sourcing system sends the same token with
    every request for its whole lifetime, and an RS256 check was a tenth of a small request.
    Keyed by the whole token, so a changed byte is verified afresh."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._seen: OrderedDict[str, Principal] = OrderedDict()

    def get(self, token: str) -> Principal | None:
        principal = self._seen.get(token)
        if principal is None:
            return None
        if time.time() >= principal.expires_at + EXPIRY_LEEWAY:
            del self._seen[token]
            return None
        return principal

    def add(self, token: str, principal: Principal) -> None:
        self._seen[token] = principal
        while len(self._seen) > self.max_entries:
            self._seen.popitem(last=False)


class BearerAuthMiddleware:
    def __init__(self, app: ASGIApp, keys: KeySet, settings: Settings) -> None:
        self.app = app
        self.keys = keys
        self.settings = settings
        self.verified = VerifiedTokens()

    def _principal(self, token: str) -> Principal:
        principal = self.verified.get(token)
        if principal is None:
            principal = verify_access_token(token, self.keys, self.settings)
            self.verified.add(token, principal)
        return principal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not scope["path"].startswith(
            PROTECTED_PREFIX
        ):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["principal"] = None
        token = _bearer_token(scope)
        try:
            if token is not None:
                state["principal"] = self._principal(token)
            elif _is_operation(scope):
                raise Unauthenticated("an access token is required: Authorization: Bearer <token>")
        except Unauthenticated as exc:
            await _deny(scope, send, exc.message, invalid_token=token is not None)
            return
        await self.app(scope, receive, send)


def _bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                return str(credentials.strip())
            return ""  # present but not a bearer token: refused as invalid
    return None


def _is_operation(scope: Scope) -> bool:
    """Everything but a plain GET of the GraphiQL page runs an operation."""
    if scope["type"] == "websocket" or scope.get("method") != "GET":
        return True
    return "query" in parse_qs(scope.get("query_string", b"").decode("latin-1"))


async def _deny(scope: Scope, send: Send, message: str, *, invalid_token: bool) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 4401, "reason": "Unauthorized"})
        return
    challenge = 'Bearer realm="compliance-hub"'
    if invalid_token:
        challenge += ', error="invalid_token"'
    body = json.dumps(
        {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", challenge.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
