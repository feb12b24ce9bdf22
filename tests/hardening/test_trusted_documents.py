"""Trusted documents: operations registered with `hub documents add`, sent by id; a client
restricted with `hub client restrict` gets nothing else run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config import Settings
from hub.consent.models import Consent
from hub.directory.models import Role
from hub.documents.registry import document_id
from tests.helpers import Actors, error_codes, fetch_token, run_hub

OPERATIONS = Path(__file__).parents[2] / "schema" / "operations"
VIEWER = (OPERATIONS / "Viewer.graphql").read_text()
REQUEST_ACCESS = "mutation($f: ID!) { requestAccess(factoryId: $f, scopes: [SUMMARY]) { id } }"


async def post(http: httpx.AsyncClient, token: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await http.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})
    answer: dict[str, Any] = response.json()
    return answer


def test_documents_are_registered_by_their_hash(settings: Settings) -> None:
    added = run_hub(settings, "documents", "add", str(OPERATIONS / "Viewer.graphql"), "--json")
    assert added.returncode == 0, added.stderr
    [entry] = json.loads(added.stdout)["documents"]
    assert entry == {
        "file": str(OPERATIONS / "Viewer.graphql"),
        "documentId": document_id(VIEWER),
        "new": True,
    }
    again = run_hub(settings, "documents", "add", str(OPERATIONS / "Viewer.graphql"))
    assert "(already there)" in again.stdout
    listed = run_hub(settings, "documents", "list")
    assert listed.stdout.split() == [document_id(VIEWER), "Viewer"]
    broken = Path(settings.data_dir) / "broken.graphql"
    broken.write_text("query { viewer ")
    refused = run_hub(settings, "documents", "add", str(broken))
    assert refused.returncode == 2
    assert "not a GraphQL document" in refused.stderr


async def test_any_client_may_send_a_registered_document_by_id(
    settings: Settings, http: httpx.AsyncClient, actors: Actors
) -> None:
    assert run_hub(settings, "documents", "add", str(OPERATIONS / "Viewer.graphql")).returncode == 0
    token = actors[Role.BUYER].token
    by_id = await post(http, token, {"documentId": document_id(VIEWER)})
    assert by_id["data"]["viewer"]["role"] == "BUYER", by_id
    apollo = {"persistedQuery": {"version": 1, "sha256Hash": document_id(VIEWER)[7:]}}
    assert "errors" not in await post(http, token, {"extensions": apollo})

    unknown = await post(http, token, {"documentId": document_id("{ viewer { role } }")})
    assert error_codes(unknown) == ["BAD_USER_INPUT"]
    assert "no registered document" in unknown["errors"][0]["message"]
    malformed = await post(http, token, {"documentId": "md5:abc"})
    assert error_codes(malformed) == ["BAD_USER_INPUT"]
    mismatched = await post(
        http, token, {"documentId": document_id(VIEWER), "query": "{ viewer { role } }"}
    )
    assert error_codes(mismatched) == ["BAD_USER_INPUT"]


async def test_a_restricted_client_runs_registered_documents_only(
    settings: Settings, http: httpx.AsyncClient, actors: Actors, session: AsyncSession
) -> None:
    buyer = actors[Role.BUYER]
    factory = actors[Role.FACTORY].factory
    assert factory is not None
    assert run_hub(settings, "documents", "add", str(OPERATIONS / "Viewer.graphql")).returncode == 0
    earlier = buyer.token
    restricted = run_hub(settings, "client", "restrict", buyer.client_id)
    assert restricted.returncode == 0, restricted.stderr
    assert "registered documents only" in restricted.stdout
    token = await fetch_token(http, buyer.client_id, buyer.client_secret)

    ad_hoc = await post(http, token, {"query": REQUEST_ACCESS, "variables": {"f": str(factory.id)}})
    assert error_codes(ad_hoc) == ["FORBIDDEN"]
    assert ad_hoc["data"] is None
    requests = select(func.count()).select_from(Consent)
    assert (await session.execute(requests)).scalar_one() == 0  # it did not run

    assert "errors" not in await post(http, token, {"documentId": document_id(VIEWER)})
    assert "errors" not in await post(http, token, {"query": VIEWER})  # the registered text
    assert error_codes(await post(http, token, {"query": VIEWER + " "})) == ["FORBIDDEN"]

    # a token issued before the restriction runs anything until it expires (documented)
    assert "errors" not in await post(http, earlier, {"query": "{ viewer { role } }"})

    lifted = run_hub(settings, "client", "restrict", buyer.client_id, "--off")
    assert lifted.returncode == 0
    token = await fetch_token(http, buyer.client_id, buyer.client_secret)
    assert "errors" not in await post(http, token, {"query": "{ viewer { role } }"})
    assert run_hub(settings, "client", "restrict", "no-such-client").returncode == 2
