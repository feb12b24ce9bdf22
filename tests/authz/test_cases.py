"""policies/cases.yaml through the real enforcer, with grants applied as ledger events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.auth.principal import Principal
from hub.authz.projection import LedgerFact, report_object
from hub.authz.service import Authorizer
from hub.directory.models import Role

TABLE: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "policies" / "cases.yaml").read_text()
)
IDS: dict[str, uuid.UUID] = {}


def ident(name: str) -> uuid.UUID:
    return IDS.setdefault(name, uuid.uuid5(uuid.NAMESPACE_URL, f"cases/{name}"))


def principal(name: str, role: str) -> Principal:
    return Principal(ident(name), Role(role), name, "t", 0)


@pytest.fixture(scope="module")
def authorizer() -> Authorizer:
    auth = Authorizer()
    seq = 0
    now = datetime.now(UTC)
    for g in TABLE["grants"]:
        expires = now - timedelta(seconds=1) if g.get("expired") else None
        fact = LedgerFact(
            seq, "GRANTED", ident(g["factory"]), ident(g["buyer"]), tuple(g["scopes"]), expires
        )
        auth.projection.apply(fact)
        seq += 1
        if g.get("then"):
            auth.projection.apply(
                LedgerFact(seq, g["then"], fact.factory_id, fact.buyer_id, (), None)
            )
            seq += 1
    return auth


def _owner(case: dict[str, Any]) -> uuid.UUID | None:
    return ident(case["owner"]) if case.get("owner") else None


@pytest.mark.parametrize(
    "case", TABLE["reports"], ids=lambda c: f"{c['who']}-{c['role']}-{c['obj']}"
)
def test_report_reads(authorizer: Authorizer, case: dict[str, Any]) -> None:
    factory, scope = case["obj"].split(":")
    obj = report_object(ident(factory), scope)
    decided = authorizer.check_report(principal(case["who"], case["role"]), obj, _owner(case))
    assert decided is case["allow"]


@pytest.mark.parametrize(
    "case", TABLE["actions"], ids=lambda c: f"{c['who']}-{c['kind']}-{c['act']}"
)
def test_actions(authorizer: Authorizer, case: dict[str, Any]) -> None:
    decided = authorizer.may(
        principal(case["who"], case["role"]), case["act"], case["kind"], _owner(case)
    )
    assert decided is case["allow"]


@pytest.mark.parametrize("buyer", sorted(TABLE["lists"]))
def test_list_filter_matches_the_table_and_the_object_check(
    authorizer: Authorizer, buyer: str
) -> None:
    who = principal(buyer, "BUYER")
    readable = {fid: sorted(grant.scopes) for fid, grant in authorizer.buyer_grants(who).items()}
    expected = {ident(f): sorted(scopes) for f, scopes in TABLE["lists"][buyer].items()}
    assert readable == expected
    # the list filter and the per-object decision are one decision
    for factory in {g["factory"] for g in TABLE["grants"]} | {"F9"}:
        for scope in ("SUMMARY", "FINDINGS", "IMPROVEMENT_PLAN"):
            single = authorizer.check_report(who, report_object(ident(factory), scope), None)
            assert single is (scope in readable.get(ident(factory), [])), (factory, scope)


def test_errors_while_deciding_deny(authorizer: Authorizer) -> None:
    who = principal("B1", "BUYER")
    obj = report_object(ident("F1"), "SUMMARY")
    assert authorizer.check_report(who, obj, None)
    broken = authorizer.enforcer.enforce
    authorizer.enforcer.enforce = lambda *a: (_ for _ in ()).throw(RuntimeError("boom"))  # type: ignore[method-assign]
    try:
        assert authorizer.check_report(who, obj, None) is False
    finally:
        authorizer.enforcer.enforce = broken  # type: ignore[method-assign]
