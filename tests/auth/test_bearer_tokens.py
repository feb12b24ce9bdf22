"""Every way a bearer token can be wrong, from an attacker's side: each is a 401 with
UNAUTHENTICATED, and none reaches a resolver."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from hub.auth import keys as signing_keys
from hub.directory.models import Role
from tests.helpers import Actors, error_codes, gql

QUERY = "{ viewer { role } }"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _claims(actors: Actors, **overrides: Any) -> dict[str, Any]:
    buyer = actors[Role.BUYER]
    now = int(time.time())
    claims = {
        "iss": "compliance-hub",
        "aud": "compliance-hub-api",
        "sub": buyer.client_id,
        "client_id": buyer.client_id,
        "org": str(buyer.org.id),
        "role": "ADMIN",  # an attacker would claim the strongest role
        "iat": now,
        "exp": now + 600,
        "jti": "attack",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _hub_key(key_file: Path) -> RSAKey:
    return signing_keys.load_or_create(key_file).signing_key


def _sign(claims: dict[str, Any], key: Any, header: dict[str, Any] | None = None) -> str:
    head = {"alg": "RS256", "typ": "at+jwt", **(header or {})}
    return jwt.encode(
        head, claims, KeySet([key]) if "kid" not in head else key, algorithms=[head["alg"]]
    )


async def _refused(http: httpx.AsyncClient, token: str) -> dict[str, Any]:
    body = await gql(http, QUERY, headers={"Authorization": f"Bearer {token}"})
    assert body["_status"] == 401, body
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert "data" not in body
    return body


async def test_a_valid_token_is_accepted(
    http: httpx.AsyncClient, actors: Actors, key_file: Path
) -> None:
    token = _sign(_claims(actors, role="BUYER"), _hub_key(key_file))
    body = await gql(http, QUERY, headers={"Authorization": f"Bearer {token}"})
    assert body["data"] == {"viewer": {"role": "BUYER"}}


async def test_no_token(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": QUERY})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]


async def test_not_a_bearer_scheme(http: httpx.AsyncClient, actors: Actors) -> None:
    response = await http.post(
        "/graphql", json={"query": QUERY}, headers={"Authorization": "Basic dXNlcjpwYXNz"}
    )
    assert response.status_code == 401


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "e30.e30.", "x" * 5000])
async def test_malformed_tokens(http: httpx.AsyncClient, garbage: str) -> None:
    await _refused(http, garbage)


async def test_wrong_signature(http: httpx.AsyncClient, actors: Actors) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"alg": "RS256"}, auto_kid=True)
    await _refused(http, _sign(_claims(actors), stranger))


async def test_same_kid_but_wrong_key(
    http: httpx.AsyncClient, actors: Actors, key_file: Path
) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"alg": "RS256"})
    kid = _hub_key(key_file).kid
    await _refused(
        http, jwt.encode({"alg": "RS256", "typ": "at+jwt", "kid": kid}, _claims(actors), stranger)
    )


async def test_alg_none(http: httpx.AsyncClient, actors: Actors, key_file: Path) -> None:
    kid = _hub_key(key_file).kid
    token = f"{_b64({'alg': 'none', 'typ': 'at+jwt', 'kid': kid})}.{_b64(_claims(actors))}."
    await _refused(http, token)


async def test_hs256_signed_with_the_public_key(
    http: httpx.AsyncClient, actors: Actors, key_file: Path
) -> None:
    # the classic algorithm-confusion forgery, built by hand (joserfc refuses to make it)
    public_pem = _hub_key(key_file).as_pem(private=False)
    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'at+jwt'})}.{_b64(_claims(actors))}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    signature = base64.urlsafe_b64encode(mac).decode().rstrip("=")
    await _refused(http, f"{signing_input}.{signature}")


async def test_expired(http: httpx.AsyncClient, actors: Actors, key_file: Path) -> None:
    now = int(time.time())
    await _refused(http, _sign(_claims(actors, iat=now - 4000, exp=now - 3000), _hub_key(key_file)))


async def test_not_yet_valid(http: httpx.AsyncClient, actors: Actors, key_file: Path) -> None:
    now = int(time.time())
    await _refused(http, _sign(_claims(actors, nbf=now + 3600), _hub_key(key_file)))


async def test_wrong_audience(http: httpx.AsyncClient, actors: Actors, key_file: Path) -> None:
    await _refused(http, _sign(_claims(actors, aud="some-other-api"), _hub_key(key_file)))


async def test_wrong_issuer(http: httpx.AsyncClient, actors: Actors, key_file: Path) -> None:
    await _refused(http, _sign(_claims(actors, iss="https://evil.example"), _hub_key(key_file)))


async def test_missing_expiry(http: httpx.AsyncClient, actors: Actors, key_file: Path) -> None:
    claims = _claims(actors)
    del claims["exp"]
    await _refused(http, _sign(claims, _hub_key(key_file)))


async def test_unknown_key_id(http: httpx.AsyncClient, actors: Actors, key_file: Path) -> None:
    token = _sign(_claims(actors), _hub_key(key_file), header={"kid": "no-such-key"})
    await _refused(http, token)


async def test_not_an_access_token_typ(
    http: httpx.AsyncClient, actors: Actors, key_file: Path
) -> None:
    # an ID token or any other JWT signed by the same key must not pass as an access token
    token = _sign(_claims(actors), _hub_key(key_file), header={"typ": "JWT"})
    await _refused(http, token)


async def test_unknown_role_claim(http: httpx.AsyncClient, actors: Actors, key_file: Path) -> None:
    await _refused(http, _sign(_claims(actors, role="SUPERUSER"), _hub_key(key_file)))


async def test_graphiql_page_needs_no_token(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_query_over_get_needs_a_token(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", params={"query": QUERY})
    assert response.status_code == 401
