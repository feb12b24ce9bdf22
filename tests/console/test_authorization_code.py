"""A person's tool signs in as the person: OAuth2 authorization code with PKCE (S256), through
the console's sign-in and an Allow/Deny page; the token speaks for the person's organisation."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from hub.directory.models import Role
from hub.directory.service import DirectoryService
from tests.console.helpers import PASSWORD, csrf_of, make_person, sign_in
from tests.console.test_console import console_client
from tests.helpers import Actors

CALLBACK = "http://127.0.0.1:9999/callback"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def public_client(session: AsyncSession, actors: Actors) -> str:
    issued = await DirectoryService(session).create_client(
        actors[Role.FACTORY].org.id, "Factory phone app", [CALLBACK]
    )
    await session.commit()
    assert issued.secret == ""
    return issued.client.client_id


def authorize_params(client_id: str, challenge: str | None, **extra: str) -> dict[str, str]:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK}
    if challenge:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return params | {"state": "s-123", **extra}


async def approve(browser: httpx.AsyncClient, params: dict[str, str], decision: str) -> str:
    """The Allow/Deny page, answered; returns where the hub sent the browser."""
    shown = await browser.get("/oauth/authorize", params=params)
    assert shown.status_code == 200, shown.text
    assert ">Allow<" in shown.text
    answer = await browser.post(
        "/oauth/authorize",
        data={**params, "csrf": csrf_of(shown.text), "decision": decision},
        follow_redirects=False,
    )
    assert answer.status_code == 302, answer.text
    return str(answer.headers["location"])


async def exchange(
    browser: httpx.AsyncClient, client_id: str, code: str, verifier: str
) -> httpx.Response:
    return await browser.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "client_id": client_id,
            "code_verifier": verifier,
        },
    )


async def test_a_tool_gets_a_token_for_the_person(
    app: Starlette, actors: Actors, session: AsyncSession
) -> None:
    client_id = await public_client(session, actors)
    email = await make_person(session, actors[Role.FACTORY].org)
    verifier, challenge = pkce()
    params = authorize_params(client_id, challenge)
    async with console_client(app) as browser:
        # not signed in: the sign-in page first, then back to the request
        first = await browser.get("/oauth/authorize", params=params)
        assert first.url.path == "/console/login"
        login = await browser.post(
            "/console/login",
            data={
                "email": email,
                "password": PASSWORD,
                "csrf": csrf_of(first.text),
                "next": re.search(r'name="next" value="([^"]+)"', first.text).group(1),  # type: ignore[union-attr]
            },
        )
        assert login.url.path == "/oauth/authorize"
        location = await approve(browser, params, "allow")
        back = urlsplit(location)
        assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
        query = parse_qs(back.query)
        assert query["state"] == ["s-123"]
        code = query["code"][0]

        token = await exchange(browser, client_id, code, verifier)
        assert token.status_code == 200, token.text
        access = token.json()["access_token"]
        keys = KeySet.import_key_set((await browser.get("/.well-known/jwks.json")).json())
        claims = jwt.decode(access, keys, algorithms=["RS256"]).claims
        assert claims["sub"].startswith("user:")
        assert claims["org"] == str(actors[Role.FACTORY].org.id)
        assert claims["role"] == "FACTORY"
        viewer = await browser.post(
            "/graphql",
            json={"query": "{ viewer { role organization { name } } }"},
            headers={"Authorization": f"Bearer {access}"},
        )
        assert viewer.json()["data"]["viewer"]["role"] == "FACTORY"

        again = await exchange(browser, client_id, code, verifier)
        assert again.status_code == 400
        assert again.json()["error"] == "invalid_grant"


async def test_what_the_code_flow_refuses(
    app: Starlette, actors: Actors, session: AsyncSession
) -> None:
    client_id = await public_client(session, actors)
    email = await make_person(session, actors[Role.FACTORY].org)
    verifier, challenge = pkce()
    async with console_client(app) as browser:
        await sign_in(browser, email)
        # a wrong verifier: the code is spent and no token comes
        location = await approve(browser, authorize_params(client_id, challenge), "allow")
        code = parse_qs(urlsplit(location).query)["code"][0]
        wrong = await exchange(browser, client_id, code, pkce()[0])
        assert wrong.status_code == 400
        assert wrong.json()["error"] == "invalid_grant"
        assert (await exchange(browser, client_id, code, verifier)).status_code == 400

        # denied: the tool hears access_denied and nothing else
        denied = await approve(browser, authorize_params(client_id, challenge), "deny")
        assert parse_qs(urlsplit(denied).query)["error"] == ["access_denied"]
        assert "code" not in parse_qs(urlsplit(denied).query)

        # never redirected anywhere not registered; no PKCE, no code; only public clients
        for params in (
            authorize_params(client_id, challenge, redirect_uri="https://evil.example/cb"),
            authorize_params(client_id, None),
            authorize_params(client_id, challenge, code_challenge_method="plain"),
            authorize_params("chc_unknown", challenge),
        ):
            refused = await browser.get("/oauth/authorize", params=params, follow_redirects=False)
            assert refused.status_code == 400, (params, refused.text[-600:])
            assert "not valid" in refused.text
        machine = actors[Role.BUYER].client_id
        refused = await browser.get(
            "/oauth/authorize", params=authorize_params(machine, challenge), follow_redirects=False
        )
        assert refused.status_code in (302, 400)
        assert "code=" not in refused.headers.get("location", "")
