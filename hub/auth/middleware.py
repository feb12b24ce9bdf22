"""Bearer-token verification as a plain ASGI middleware (authlib has no Starlette resource
server). Every GraphQL operation needs a valid token; the GraphiQL page itself does not."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs

from cachetools import TLRUCache
from joserfc.jwk import KeySet
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.auth import keys as signing_keys
from hub.auth.principal import Principal
from hub.auth.tokens import EXPIRY_LEEWAY, verify_access_token
from hub.config import Settings
from hub.errors import Unauthenticated
from hub.ops.responses import send_error

PROTECTED_PREFIX = "/graphql"


def _token_lapses(_token: str, principal: Principal, _now: float) -> float:
    return float(principal.expires_at + EXPIRY_LEEWAY)


class TokenVerifier:
    def __init__(self, keys: KeySet, settings: Settings) -> None:
        self.keys = keys
        self.settings = settings
        self._file = _stamp(settings.signing_key_file)
        self._looked = 0.0
        # tokens already verified, until they expire: a sourcing system sends the same token
        # with every request for its whole lifetime, and an RS256 check was a tenth of a small
        # request; keyed by the whole token, so a changed byte is verified afresh
        self.verified: TLRUCache[str, Principal] = TLRUCache(
            10_000, ttu=_token_lapses, timer=time.time
        )

    def __call__(self, token: str) -> Principal:
        """The token's principal, or Unauthenticated."""
        now = time.monotonic()
        if now - self._looked >= 1.0:
            # a retired key's tokens are refused within a second, remembered or not
            self._looked = now
            self.reload()
        principal = self.verified.get(token)
        if principal is None:
            try:
                principal = verify_access_token(token, self.keys, self.settings)
            except Unauthenticated:
                # perhaps signed by a key added since (hub keys rotate): one stat to know
                if not self.reload():
                    raise
                principal = verify_access_token(token, self.keys, self.settings)
            self.verified[token] = principal
        return principal

    def reload(self) -> bool:
        """Take up the key file's keys if it changed (`hub keys rotate` or `retire`)."""
        stamp = _stamp(self.settings.signing_key_file)
        if stamp == self._file or stamp is None:
            return False
        self._file = stamp
        self.keys = signing_keys.load_or_create(self.settings.signing_key_file).verification_keys()
        self.verified.clear()  # a retired key's tokens must not linger here
        return True

    def public_jwks(self) -> dict[str, object]:
        return dict(self.keys.as_dict(private=False))


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns


class BearerAuthMiddleware:
    def __init__(self, app: ASGIApp, verifier: TokenVerifier) -> None:
        self.app = app
        self.verifier = verifier

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
                state["principal"] = self.verifier(token)
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
    """Everything but a plain GET of the GraphiQL page runs an operation. A WebSocket may
    instead bring its token in graphql-transport-ws's connection_init (browsers cannot set
    headers on one); nothing runs on it before the view has verified that token."""
    if scope["type"] == "websocket":
        return False
    if scope.get("method") != "GET":
        return True
    return "query" in parse_qs(scope.get("query_string", b"").decode("latin-1"))


async def _deny(scope: Scope, send: Send, message: str, *, invalid_token: bool) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 4401, "reason": "Unauthorized"})
        return
    challenge = 'Bearer realm="compliance-hub"'
    if invalid_token:
        challenge += ', error="invalid_token"'
    await send_error(
        send, 401, "UNAUTHENTICATED", message, (b"www-authenticate", challenge.encode())
    )
