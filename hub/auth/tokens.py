"""RFC 9068 JWT access tokens: issued by authlib's generator, verified with joserfc.

Tokens carry who the caller is (organisation, role, client) and nothing about consent: consent
is decided at request time from the ledger, so a revocation binds at once.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from hub.auth.keys import ALGORITHM, SigningKeys
from hub.auth.principal import Principal
from hub.config import Settings
from hub.directory.models import Role
from hub.errors import Unauthenticated


class HubTokenGenerator(JWTBearerTokenGenerator):  # type: ignore[misc]
    def __init__(self, settings: Settings, keys: SigningKeys, lifetime: int | None = None):
        life = lifetime or settings.token_lifetime
        super().__init__(
            issuer=settings.token_issuer,
            alg=ALGORITHM,
            expires_generator=lambda client, grant_type: life,
        )
        self.settings = settings
        self.keys = keys

    def get_jwks(self) -> KeySet:
        # a KeySet (not a bare key) makes joserfc write the `kid` header
        return KeySet([self.keys.signing_key])

    def get_audiences(self, client: Any, user: Any, scope: Any) -> str:
        return self.settings.token_audience

    def get_extra_claims(
        self, client: Any, grant_type: Any, user: Any, scope: Any
    ) -> dict[str, Any]:
        # a person's token (authorization code) speaks for the person's organisation
        owner = user or client
        claims = {"org": str(owner.org_id), "role": owner.role.value}
        if getattr(client, "trusted_only", False):
            claims["tdo"] = True  # registered documents only (hub.graphql.trusted)
        return claims


EXPIRY_LEEWAY = 30  # seconds of clock skew allowed at exp and nbf


def verify_access_token(token: str, keys: KeySet, settings: Settings) -> Principal:
    """The Principal of a valid token; Unauthenticated (with a reason) for any other."""
    try:
        decoded = jwt.decode(token, keys, algorithms=[ALGORITHM])
    except (JoseError, ValueError) as exc:
        raise Unauthenticated(f"invalid access token: {_reason(exc)}") from None
    if decoded.header.get("typ", "").lower() not in ("at+jwt", "application/at+jwt"):
        raise Unauthenticated("invalid access token: typ must be at+jwt")
    registry = JWTClaimsRegistry(
        now=int(time.time()),
        leeway=EXPIRY_LEEWAY,
        iss={"essential": True, "value": settings.token_issuer},
        aud={"essential": True, "value": settings.token_audience},
        exp={"essential": True},
        sub={"essential": True},
        org={"essential": True},
        role={"essential": True},
        jti={"essential": True},
    )
    try:
        registry.validate(decoded.claims)
    except JoseError as exc:
        raise Unauthenticated(f"invalid access token: {_reason(exc)}") from None
    claims = decoded.claims
    try:
        return Principal(
            org_id=uuid.UUID(claims["org"]),
            role=Role(claims["role"]),
            subject=str(claims["sub"]),
            token_id=str(claims["jti"]),
            expires_at=int(claims["exp"]),
            trusted_only=claims.get("tdo") is True,
        )
    except (ValueError, TypeError):
        raise Unauthenticated("invalid access token: malformed claims") from None


def _reason(exc: Exception) -> str:
    return getattr(exc, "description", None) or getattr(exc, "error", None) or type(exc).__name__
