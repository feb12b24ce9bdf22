"""The exported SDL matches the code, and every operation in schema/operations runs cleanly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.directory.models import Role
from hub.graphql.export import sdl
from tests.helpers import Actors, gql, make_factories

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = sorted((ROOT / "schema" / "operations").glob("*.graphql"))
TEXTS = {p.stem: p.read_text() for p in OPERATIONS}
QUERIES = [
    p
    for p in OPERATIONS
    if TEXTS[p.stem].lstrip("# \n").find("mutation") != 0 and "\nmutation" not in TEXTS[p.stem]
]


def test_exported_schema_has_not_drifted() -> None:
    committed = (ROOT / "schema" / "schema.graphql").read_text()
    assert committed == sdl(), "schema drifted: run `make schema` and commit schema/schema.graphql"


@pytest.mark.parametrize("path", QUERIES, ids=[p.stem for p in QUERIES])
async def test_operation_runs(http, actors: Actors, session, path: Path) -> None:
    [factory] = await make_factories(session, [("Operation Test Garments", "KH")])
    own = actors[Role.FACTORY].factory
    assert own is not None
    variables: dict[str, Any] = {
        "FactoryLookup": {"id": factory.hub_id},
        "BenchFactoryReport": {"id": str(own.id)},  # read by its own factory: all visible
    }.get(path.stem, {})
    role = Role.FACTORY if path.stem == "BenchFactoryReport" else Role.BUYER
    body = await gql(http, TEXTS[path.stem], variables, actor=actors[role])
    assert "errors" not in body, body
    assert body["data"]


async def test_grant_and_revoke_operations_run(http, actors: Actors) -> None:
    factory = actors[Role.FACTORY]
    granted = await gql(
        http,
        TEXTS["BenchGrant"],
        {"b": str(actors[Role.BUYER].org.id), "s": ["SUMMARY", "FINDINGS"]},
        actor=factory,
    )
    assert granted["data"]["grantConsent"]["status"] == "GRANTED"
    revoked = await gql(
        http,
        TEXTS["BenchRevoke"],
        {"id": granted["data"]["grantConsent"]["consentId"]},
        actor=factory,
    )
    assert revoked["data"]["revokeConsent"]["status"] == "REVOKED"
