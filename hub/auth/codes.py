"""The authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636 S256 only), for a person's
tool signing in as that person. authlib checks the requests and makes the codes; the codes live
in `oauth_codes` (a hash of each), written after authlib made them and claimed - deleted - before
authlib sees the exchange, so a code serves once even when two exchanges race."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.accounts.models import User
from hub.directory.models import OAuthCode, Organization, Role

CODE_LIFETIME = timedelta(minutes=1)


@dataclass(frozen=True)
class Owner:
    """The person a code (and then a token) is for, as authlib's 'user'."""

    user_id: uuid.UUID
    org_id: uuid.UUID
    role: Role

    def get_user_id(self) -> str:
        return f"user:{self.user_id}"


@dataclass(frozen=True)
class CodeRecord:
    code: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    code_challenge_method: str
    owner: Owner
    expires_at: datetime

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return ""


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class S256Challenge(CodeChallenge):  # type: ignore[misc]
    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]


class CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    # public clients only: the code_verifier is what proves the caller
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["none"]

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        self.server.issued.append(
            CodeRecord(
                code=code,
                client_id=request.client.get_client_id(),
                redirect_uri=request.payload.redirect_uri or request.redirect_uri,
                code_challenge=data["code_challenge"],
                code_challenge_method=data.get("code_challenge_method") or "S256",
                owner=request.user,
                expires_at=datetime.now(UTC) + CODE_LIFETIME,
            )
        )

    def query_authorization_code(self, code: str, client: Any) -> CodeRecord | None:
        claimed: CodeRecord | None = self.server.claimed
        if (
            claimed is None
            or claimed.code != code
            or claimed.client_id != client.get_client_id()
            or claimed.expires_at <= datetime.now(UTC)
        ):
            return None
        return claimed

    def delete_authorization_code(self, authorization_code: CodeRecord) -> None:
        """Deleted when it was claimed (claim_code)."""

    def authenticate_user(self, authorization_code: CodeRecord) -> Owner:
        return authorization_code.owner


async def store_codes(sessions: async_sessionmaker[AsyncSession], codes: list[CodeRecord]) -> None:
    async with sessions() as session, session.begin():
        for c in codes:
            session.add(
                OAuthCode(
                    code_hash=_hash(c.code),
                    client_id=c.client_id,
                    user_id=c.owner.user_id,
                    redirect_uri=c.redirect_uri,
                    code_challenge=c.code_challenge,
                    code_challenge_method=c.code_challenge_method,
                    expires_at=c.expires_at,
                )
            )


async def claim_code(sessions: async_sessionmaker[AsyncSession], code: str) -> CodeRecord | None:
    """Take the code out of the store (whatever the exchange then decides) with its person."""
    async with sessions() as session, session.begin():
        claimed = (
            await session.execute(
                delete(OAuthCode).where(OAuthCode.code_hash == _hash(code)).returning(OAuthCode)
            )
        ).scalar_one_or_none()
        if claimed is None:
            return None
        owner = (
            await session.execute(
                select(User.id, Organization.id, Organization.role)
                .join(Organization, Organization.id == User.org_id)
                .where(User.id == claimed.user_id, User.disabled_at.is_(None))
            )
        ).one_or_none()
    if owner is None:
        return None
    return CodeRecord(
        code=code,
        client_id=claimed.client_id,
        redirect_uri=claimed.redirect_uri,
        code_challenge=claimed.code_challenge,
        code_challenge_method=claimed.code_challenge_method,
        owner=Owner(owner[0], owner[1], owner[2]),
        expires_at=claimed.expires_at,
    )
