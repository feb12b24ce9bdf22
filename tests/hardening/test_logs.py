"""Logs of a real `hub serve`: one JSON object per line, a request id on every request's lines
(and in the answer's header), and no token, secret or personal data anywhere in them."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from hub.directory.models import Role
from hub.ops.logs import new_request_id, scrub
from tests.e2e.servers import hub_server
from tests.helpers import Actors

# what a factory manager might type into a free-text field: a person's name and phone number
PERSONAL = "Sokha Chan +855 12 345 678"


async def test_logs_are_json_with_request_ids_and_nothing_secret(
    database_url: str, key_file: Path, session: AsyncSession, actors: Actors, tmp_path: Path
) -> None:
    log_file = tmp_path / "hub.log"
    buyer, factory = actors[Role.BUYER], actors[Role.FACTORY]
    assert factory.factory is not None
    secrets = [buyer.client_secret, factory.client_secret]
    async with (
        hub_server(database_url, key_file, log_file=log_file, HUB_LOG_FORMAT="json") as (base, _),
        httpx.AsyncClient(base_url=base, timeout=10) as http,
    ):
        issued = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(buyer.client_id, buyer.client_secret),
        )
        token = issued.json()["access_token"]
        secrets.append(token)
        wrong = await http.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": factory.client_id,
                "client_secret": factory.client_secret + "x",
            },
        )
        assert wrong.status_code == 401
        bearer = {"Authorization": f"Bearer {token}"}

        asked = await http.post(
            "/graphql",
            json={
                "query": "mutation($f: ID!, $m: String) { requestAccess(factoryId: $f, "
                "scopes: [SUMMARY], message: $m) { id } }",
                "variables": {"f": str(factory.factory.id), "m": f"please call {PERSONAL}"},
            },
            headers={**bearer, "X-Request-Id": "sourcing-42"},
        )
        assert "errors" not in asked.json(), asked.json()
        assert asked.headers["x-request-id"] == "sourcing-42"

        # a bad document whose variables carry personal data, and a GET with a query string
        await http.post(
            "/graphql",
            json={"query": "query($x: Int) { nope }", "variables": {"x": PERSONAL}},
            headers=bearer,
        )
        await http.get("/graphql", params={"query": f'{{ viewer {{ "{PERSONAL}" }} }}'})
        forged = await http.post(
            "/graphql",
            json={"query": "{ viewer { role } }"},
            headers={**bearer, "X-Request-Id": 'x"} {"level": "CRITICAL"'},
        )
        assert forged.headers["x-request-id"] != 'x"} {"level": "CRITICAL"'
        await http.post("/graphql", json={"query": "{ viewer { role } }"}, headers=factory.headers)
        hook = await http.post(
            "/graphql",
            json={
                "query": 'mutation { registerWebhook(url: "http://127.0.0.1:9/hook", '
                'events: ["consent.granted"]) { secret } }'
            },
            headers=bearer,
        )
        secrets.append(hook.json()["data"]["registerWebhook"]["secret"])
        await http.post(
            "/graphql",
            json={"query": "{ viewer { role } }"},
            headers={"Authorization": f"Bearer {token}broken"},
        )

    text = log_file.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "hub.access"]
    assert len(access) >= 8
    assert all(line["request_id"] and line["status"] for line in access)
    assert {"sourcing-42", forged.headers["x-request-id"]} <= {a["request_id"] for a in access}
    tagged = next(a for a in access if a["request_id"] == "sourcing-42")
    assert tagged["org"] == str(buyer.org.id)
    assert tagged["role"] == "BUYER"
    assert tagged["path"] == "/graphql"
    assert tagged["status"] == 200
    for needle in [*secrets, PERSONAL, "Sokha", "please call", "CRITICAL"]:
        assert needle not in text, f"{needle[:12]}… is in the log"


def test_scrub_masks_what_a_library_message_might_carry() -> None:
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    line = (
        f"Traceback: token={jwt} Authorization: Bearer {jwt} basic dXNlcjpwYXNzd29yZA== "
        'secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" client_secret=s3cr3t&x=1'
    )
    cleaned = scrub(line)
    for secret in (jwt, "dXNlcjpwYXNzd29yZA==", "whsec_", "MfKQ9r8G", "s3cr3t"):
        assert secret not in cleaned
    assert "&x=1" in cleaned
    assert "client_secret=[redacted]" in cleaned


def test_a_request_id_from_a_client_is_kept_only_when_plain() -> None:
    assert new_request_id("abc-123.x:y_z") == "abc-123.x:y_z"
    for offered in (None, "", "x" * 65, "a b", 'x"}', "é"):
        made = new_request_id(offered)
        assert made != offered
        assert len(made) == 32
