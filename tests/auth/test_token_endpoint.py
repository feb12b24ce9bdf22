"""POST /oauth/token: the client credentials grant, from the client's side."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config import Settings, secret_hash_cost
from hub.directory.models import OAuthClient, Role
from tests.conftest import make_settings
from tests.helpers import Actor, Actors, in_process, make_actor


async def test_basic_auth_issues_a_short_lived_at_jwt(
    http: httpx.AsyncClient, actors: Actors
) -> None:
    buyer = actors[Role.BUYER]
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(buyer.client_id, buyer.client_secret),
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900

    jwks = (await http.get("/.well-known/jwks.json")).json()
    assert all("d" not in key for key in jwks["keys"]), "private key material published"
    token = jwt.decode(body["access_token"], KeySet.import_key_set(jwks), algorithms=["RS256"])
    assert token.header["typ"] == "at+jwt"
    assert token.header["kid"] == jwks["keys"][0]["kid"]
    claims = token.claims
    assert claims["aud"] == "compliance-hub-api"
    assert claims["iss"] == "compliance-hub"
    assert claims["org"] == str(buyer.org.id)
    assert claims["role"] == "BUYER"
    assert claims["sub"] == buyer.client_id
    assert claims["exp"] - claims["iat"] == 900


async def test_form_credentials_are_accepted(http: httpx.AsyncClient, actors: Actors) -> None:
    factory = actors[Role.FACTORY]
    response = await http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": factory.client_id,
            "client_secret": factory.client_secret,
        },
    )
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"


async def _token_error(http: httpx.AsyncClient, **kwargs: object) -> tuple[int, str]:
    response = await http.post("/oauth/token", **kwargs)  # type: ignore[arg-type]
    return response.status_code, response.json()["error"]


async def test_wrong_secret_is_invalid_client(http: httpx.AsyncClient, actors: Actors) -> None:
    buyer = actors[Role.BUYER]
    status, error = await _token_error(
        http, data={"grant_type": "client_credentials"}, auth=(buyer.client_id, "not-the-secret")
    )
    assert (status, error) == (401, "invalid_client")


async def test_unknown_client_is_invalid_client(http: httpx.AsyncClient) -> None:
    status, error = await _token_error(
        http, data={"grant_type": "client_credentials"}, auth=("chc_nobody", "whatever")
    )
    assert (status, error) == (401, "invalid_client")


async def test_no_credentials_is_invalid_client(http: httpx.AsyncClient) -> None:
    status, error = await _token_error(http, data={"grant_type": "client_credentials"})
    assert (status, error) == (401, "invalid_client")


async def test_garbled_basic_header_is_invalid_client(http: httpx.AsyncClient) -> None:
    status, error = await _token_error(
        http,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic !!!not-base64"},
    )
    assert (status, error) == (401, "invalid_client")


async def test_other_grant_types_are_refused(http: httpx.AsyncClient, actors: Actors) -> None:
    buyer = actors[Role.BUYER]
    status, error = await _token_error(
        http,
        data={"grant_type": "password", "username": "a", "password": "b"},
        auth=(buyer.client_id, buyer.client_secret),
    )
    assert status == 400
    assert error == "unsupported_grant_type"


async def test_revoked_client_gets_no_token(http: httpx.AsyncClient, session: AsyncSession) -> None:
    actor: Actor = await make_actor(session, http, Role.BUYER)
    await session.execute(
        update(OAuthClient)
        .where(OAuthClient.client_id == actor.client_id)
        .values(revoked_at=datetime.now(UTC))
    )
    await session.commit()
    credentials = base64.b64encode(f"{actor.client_id}:{actor.client_secret}".encode()).decode()
    status, error = await _token_error(
        http,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {credentials}"},
    )
    assert (status, error) == (401, "invalid_client")


async def test_secret_is_stored_hashed(session: AsyncSession, actors: Actors) -> None:
    buyer = actors[Role.BUYER]
    stored = await session.scalar(
        select(OAuthClient.secret_hash).where(OAuthClient.client_id == buyer.client_id)
    )
    assert stored is not None
    assert buyer.client_secret not in stored
    assert stored.startswith("scrypt$1024$8$1$")  # salted scrypt, at the tests' lower cost
    assert secret_hash_cost({}) == 14  # what a deployment gets: 2^14


def test_secret_hashes_check_and_salt() -> None:
    import hashlib

    from hub.directory.service import hash_secret, secret_matches

    first, second = hash_secret("s3cret"), hash_secret("s3cret")
    assert first != second  # salted
    assert secret_matches("s3cret", first)
    assert not secret_matches("s3cret!", first)
    assert not secret_matches("s3cret", first[:-4] + "AAA=")
    assert not secret_matches("s3cret", "scrypt$broken")
    # clients made before scrypt keep working
    assert secret_matches("old", hashlib.sha256(b"old").hexdigest())


async def test_an_address_guessing_secrets_is_slowed_then_refused(
    settings: Settings, key_file: Path, session: AsyncSession
) -> None:
    """Failed authentications per address have a small budget; once it is spent even the right
    secret waits (no more slow-hash checks for that address), and Retry-After says how long."""
    throttled = make_settings(
        settings.database_url or "", key_file, HUB_TOKEN_FAILURES=3, HUB_TOKEN_RATE=100
    )
    async with in_process(throttled) as http:
        actor = await make_actor(session, http, Role.BUYER)
        for _ in range(3):
            status, error = await _token_error(
                http, data={"grant_type": "client_credentials"}, auth=(actor.client_id, "guess")
            )
            assert (status, error) == (401, "invalid_client")
        started = time.monotonic()
        refused = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(actor.client_id, actor.client_secret),
        )
        assert refused.status_code == 429
        assert refused.json()["error"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert time.monotonic() - started >= 0.9  # answered after the tarpit's pause


async def test_an_address_has_a_budget_of_token_requests(
    settings: Settings, key_file: Path, session: AsyncSession
) -> None:
    throttled = make_settings(settings.database_url or "", key_file, HUB_TOKEN_RATE=4)
    async with in_process(throttled) as http:
        actor = await make_actor(session, http, Role.BUYER)  # the first of the four
        statuses = [
            (
                await http.post(
                    "/oauth/token",
                    data={"grant_type": "client_credentials"},
                    auth=(actor.client_id, actor.client_secret),
                )
            ).status_code
            for _ in range(4)
        ]
    assert statuses == [200, 200, 200, 429]
