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


def test_exported_schema_has_not_drifted() -> None:
    committed = (ROOT / "schema" / "schema.graphql").read_text()
    assert committed == sdl(), "schema drifted: run `make schema` and commit schema/schema.graphql"


@pytest.mark.parametrize("path", OPERATIONS, ids=[p.stem for p in OPERATIONS])
async def test_operation_runs(http, actors: Actors, session, path: Path) -> None:
    [factory] = await make_factories(session, [("Operation Test Garments", "KH")])
    variables: dict[str, Any] = {"FactoryLookup": {"id": factory.hub_id}}.get(path.stem, {})
    body = await gql(http, TEXTS[path.stem], variables, actor=actors[Role.BUYER])
    assert "errors" not in body, body
    assert body["data"]
