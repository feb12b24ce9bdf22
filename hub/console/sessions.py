"""Console sign-in: a random token in a cookie (HttpOnly, SameSite=Strict, Secure in production),
a hash of it in the database, a new one at every sign-in (no session fixation); every form
carries the session's CSRF token, the sign-in form a double-submit token of its own, and a
POST from another origin is refused outright."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response

from hub.accounts.service import SESSION_LIFETIME, Accounts, Person
from hub.auth.principal import Principal
from hub.config import Settings

LOGIN_CSRF_COOKIE = "hub_login_csrf"


def session_cookie(settings: Settings) -> str:
    # __Host-: only ever set by this host over https, for the whole site (production)
    return "__Host-hub_console" if settings.production else "hub_console"


def set_session(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        session_cookie(settings),
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        secure=settings.production,
        httponly=True,
        samesite="strict",
    )


def clear_session(response: Response, settings: Settings) -> None:
    response.delete_cookie(session_cookie(settings), path="/")


def login_csrf(request: Request) -> str:
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)


def set_login_csrf(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        path="/console",
        secure=settings.production,
        httponly=True,
        samesite="strict",
    )


def same_origin(request: Request) -> bool:
    """A browser names the page a POST came from; it must be ours."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True  # not a browser cross-site request (they always send Origin on POST)
    theirs = urlsplit(origin)
    return (theirs.scheme, theirs.netloc) == (request.url.scheme, request.url.netloc)


def tokens_match(expected: str | None, given: object) -> bool:
    return (
        bool(expected)
        and isinstance(given, str)
        and hmac.compare_digest(str(expected).encode(), given.encode())
    )


async def signed_in(
    request: Request, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> Person | None:
    token = request.cookies.get(session_cookie(settings))
    if not token:
        return None
    async with sessions() as session:
        return await Accounts(session).person(token)


def principal_of(person: Person) -> Principal:
    """The person acts as their organisation, like its API clients (subject tells them apart
    in budgets and logs)."""
    return Principal(
        org_id=person.org.id,
        role=person.role,
        subject=f"user:{person.user.id}",
        token_id=f"session:{person.session.created_at.timestamp():.0f}",
        expires_at=int(person.session.expires_at.timestamp()),
    )
