"""Creating people, checking passwords, and console sessions."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.accounts.models import User, WebSession
from hub.directory.models import Organization, Role
from hub.directory.service import hash_secret, secret_matches
from hub.errors import BadUserInput, Conflict, NotFound

SESSION_LIFETIME = timedelta(hours=8)
MIN_PASSWORD = 12
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@cache
def _dummy_hash() -> str:
    """Checked when the address is unknown, so a wrong address takes as long as a wrong
    password (the response time does not tell who has an account)."""
    return hash_secret(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Person:
    user: User
    org: Organization
    session: WebSession

    @property
    def role(self) -> Role:
        return self.org.role


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create_user(self, org_id: uuid.UUID, email: str, password: str) -> User:
        email = email.strip().lower()
        if not _EMAIL.fullmatch(email):
            raise BadUserInput(f"not an email address: {email!r}")
        if len(password) < MIN_PASSWORD:
            raise BadUserInput(f"a password needs at least {MIN_PASSWORD} characters")
        if await self.session.get(Organization, org_id) is None:
            raise NotFound(f"no organisation {org_id}")
        user = User(org_id=org_id, email=email, password_hash=hash_secret(password))
        self.session.add(user)
        try:
            async with self.session.begin_nested():
                await self.session.flush()
        except IntegrityError:
            raise Conflict(f"{email} already has an account") from None
        return user

    async def set_password(self, email: str, password: str) -> bool:
        """A new password for an existing person (their sessions end); False if none."""
        query = select(User).where(User.email == email.strip().lower())
        user = (await self.session.execute(query)).scalar_one_or_none()
        if user is None:
            return False
        if len(password) < MIN_PASSWORD:
            raise BadUserInput(f"a password needs at least {MIN_PASSWORD} characters")
        user.password_hash = hash_secret(password)
        await self.session.execute(delete(WebSession).where(WebSession.user_id == user.id))
        return True

    async def sign_in(self, email: str, password: str) -> tuple[str, Person] | None:
        """A new session (its cookie token, and who) for the right password, else None."""
        query = select(User).where(User.email == email.strip().lower())
        user = (await self.session.execute(query)).scalar_one_or_none()
        if user is None or user.disabled_at is not None:
            secret_matches(password, _dummy_hash())
            return None
        if not secret_matches(password, user.password_hash):
            return None
        token = secrets.token_urlsafe(32)
        row = WebSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            expires_at=datetime.now(UTC) + SESSION_LIFETIME,
        )
        self.session.add(row)
        await self.session.flush()
        org = await self.session.get(Organization, user.org_id)
        assert org is not None
        return token, Person(user, org, row)

    async def person(self, token: str) -> Person | None:
        """Who holds this cookie token, while the session lasts."""
        query = (
            select(WebSession, User, Organization)
            .join(User, User.id == WebSession.user_id)
            .join(Organization, Organization.id == User.org_id)
            .where(
                WebSession.token_hash == _token_hash(token),
                WebSession.expires_at > datetime.now(UTC),
                User.disabled_at.is_(None),
            )
        )
        row = (await self.session.execute(query)).one_or_none()
        return Person(row[1], row[2], row[0]) if row else None

    async def sign_out(self, token: str) -> None:
        await self.session.execute(
            delete(WebSession).where(WebSession.token_hash == _token_hash(token))
        )
