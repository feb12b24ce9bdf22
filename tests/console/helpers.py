"""Signing people in to the console over HTTP, as a browser would (forms, cookies)."""

from __future__ import annotations

import re
import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from hub.accounts.service import Accounts
from hub.directory.models import Organization

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def make_person(session: AsyncSession, org: Organization, email: str | None = None) -> str:
    email = email or f"person-{uuid.uuid4().hex[:8]}@example.org"
    await Accounts(session).create_user(org.id, email, PASSWORD)
    await session.commit()
    return email


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form token"
    return found.group(1)


async def sign_in(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    form = await http.get("/console/login")
    return await http.post(
        "/console/login",
        data={"email": email, "password": password, "csrf": csrf_of(form.text)},
    )


async def home_csrf(http: httpx.AsyncClient) -> str:
    return csrf_of((await http.get("/console/")).text)
