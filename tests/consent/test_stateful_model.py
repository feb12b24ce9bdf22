"""Random consent histories against a small reference model.

Hypothesis drives requests, grants (and scope changes), declines, revocations, expiries and
publications across two buyers and two factories; after every step every read path (factory,
assessment, suppliers, factories, nested fields) must agree with the model on what each buyer
may see. The model is written here, independently of the hub's code.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from hub.app import create_app
from hub.db.engine import build_engine, build_sessionmaker
from hub.directory.models import Role
from tests.conftest import make_settings
from tests.helpers import PUBLISH, SUBMIT, Actor, error_codes, gql, make_actor, make_answers

SCOPES = ["SUMMARY", "FINDINGS", "IMPROVEMENT_PLAN"]
scope_sets = st.sets(st.sampled_from(SCOPES), min_size=1).map(sorted)


@dataclass
class Pair:
    status: str = "NONE"  # NONE REQUESTED GRANTED DECLINED ENDED
    scopes: tuple[str, ...] = ()
    consent_id: str | None = None


@dataclass
class World:
    http: httpx.AsyncClient
    loop: asyncio.AbstractEventLoop
    buyers: list[Actor]
    factories: list[Actor]
    assessor: Actor
    pairs: dict[tuple[int, int], Pair] = field(default_factory=dict)
    latest: dict[int, str] = field(default_factory=dict)  # factory index -> assessment id
    cycles: dict[int, int] = field(default_factory=dict)

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)


class ConsentModel(RuleBasedStateMachine):
    world: World  # set before the run

    def __init__(self) -> None:
        super().__init__()
        self.w = type(self).world
        self.w.pairs = {}
        self.w.latest = {}
        # each example starts from fresh organisations so earlier examples do not interfere
        self.w.buyers, self.w.factories = self.w.run(_fresh_orgs(self.w))

    def pair(self, f: int, b: int) -> Pair:
        return self.w.pairs.setdefault((f, b), Pair())

    def _mutate(self, query: str, variables: dict[str, Any], actor: Actor) -> dict[str, Any]:
        body: dict[str, Any] = self.w.run(gql(self.w.http, query, variables, actor=actor))
        return body

    @rule(f=st.integers(0, 1), b=st.integers(0, 1), scopes=scope_sets)
    def request(self, f: int, b: int, scopes: list[str]) -> None:
        p = self.pair(f, b)
        body = self._mutate(
            "mutation($f: ID!, $s: [ConsentScope!]!) { requestAccess(factoryId: $f, scopes: $s) { id status } }",
            {"f": str(self.w.factories[f].factory.id), "s": scopes},  # type: ignore[union-attr]
            self.w.buyers[b],
        )
        if p.status == "GRANTED" and not set(scopes) <= set(p.scopes):
            assert error_codes(body) == ["CONFLICT"], body
            return
        assert "errors" not in body, body
        p.consent_id = body["data"]["requestAccess"]["id"]
        if p.status != "GRANTED":
            p.status, p.scopes = "REQUESTED", tuple(scopes)

    @rule(f=st.integers(0, 1), b=st.integers(0, 1), scopes=scope_sets, short=st.booleans())
    def grant(self, f: int, b: int, scopes: list[str], short: bool) -> None:
        p = self.pair(f, b)
        # far enough ahead to still be in the future when a loaded machine handles the request
        ends = datetime.now(UTC) + timedelta(seconds=1)
        expires = ends.isoformat() if short else None
        body = self._mutate(
            "mutation($b: ID!, $s: [ConsentScope!]!, $e: DateTime) { grantConsent(buyerId: $b, scopes: $s, expiresAt: $e) { id status } }",
            {"b": str(self.w.buyers[b].org.id), "s": scopes, "e": expires},
            self.w.factories[f],
        )
        if p.status == "DECLINED":
            assert error_codes(body) == ["CONFLICT"], body
            return
        assert "errors" not in body, body
        p.consent_id = body["data"]["grantConsent"]["id"]
        p.status, p.scopes = "GRANTED", tuple(scopes)
        if short:
            # past its expiry: enforcement drops it at once
            self.w.run(asyncio.sleep((ends - datetime.now(UTC)).total_seconds() + 0.05))
            p.status, p.scopes = "ENDED", ()

    @rule(f=st.integers(0, 1), b=st.integers(0, 1))
    def decline(self, f: int, b: int) -> None:
        p = self.pair(f, b)
        if p.consent_id is None:
            return
        body = self._mutate(
            "mutation($c: ID!) { declineRequest(consentId: $c) { status } }",
            {"c": p.consent_id},
            self.w.factories[f],
        )
        if p.status in ("REQUESTED", "DECLINED"):
            assert "errors" not in body, body
            p.status, p.scopes = "DECLINED", ()
        else:
            assert error_codes(body) == ["CONFLICT"], body

    @rule(f=st.integers(0, 1), b=st.integers(0, 1))
    def revoke(self, f: int, b: int) -> None:
        p = self.pair(f, b)
        if p.consent_id is None:
            return
        body = self._mutate(
            "mutation($c: ID!) { revokeConsent(consentId: $c) { status } }",
            {"c": p.consent_id},
            self.w.factories[f],
        )
        if p.status in ("GRANTED", "ENDED"):
            assert "errors" not in body, body
            p.status, p.scopes = "ENDED", ()
        else:
            assert error_codes(body) == ["CONFLICT"], body

    @rule(f=st.integers(0, 1))
    def publish(self, f: int) -> None:
        factory = self.w.factories[f].factory
        assert factory is not None
        cycle = self.w.cycles.get(f, 0) + 1
        self.w.cycles[f] = cycle
        body = self._mutate(
            SUBMIT,
            {
                "input": {
                    "factoryId": str(factory.id),
                    "cycle": f"2026-{cycle}",
                    "assessedAt": (datetime(2025, 1, 1) + timedelta(days=cycle)).date().isoformat(),
                    "answers": make_answers(factory.country, {"OSH.EMR.01"}),
                    "improvementPlan": [{"questionCode": "OSH.EMR.01", "action": "fix"}],
                }
            },
            self.w.assessor,
        )
        assessment_id = body["data"]["submitAssessment"]["id"]
        assert "errors" not in self._mutate(PUBLISH, {"id": assessment_id}, self.w.assessor)
        self.w.latest[f] = assessment_id

    def expected(self, f: int, b: int) -> list[str]:
        p = self.w.pairs.get((f, b))
        return sorted(p.scopes) if p and p.status == "GRANTED" else []

    @invariant()
    def every_read_path_agrees(self) -> None:
        if not hasattr(self, "w"):
            return
        for b, buyer in enumerate(self.w.buyers):
            seen = self.w.run(_read_everything(self.w, buyer))
            for f in range(2):
                want = self.expected(f, b)
                factory_id = str(self.w.factories[f].factory.id)  # type: ignore[union-attr]
                single = seen["single"][f]
                assert single["access"] == want, (f, b, single, self.w.pairs)
                latest = single["latestAssessment"]
                if "SUMMARY" in want and f in self.w.latest:
                    assert latest is not None
                    assert latest["id"] == self.w.latest[f]
                    assert (latest["findings"] is not None) == ("FINDINGS" in want)
                    assert (latest["improvementPlan"] is not None) == ("IMPROVEMENT_PLAN" in want)
                else:
                    assert latest is None
                if f in self.w.latest:
                    visible = seen["assessment"][f]
                    assert (visible is not None) == bool(want), (f, b, visible, want)
                assert seen["directory"].get(factory_id, []) == want
                if factory_id in seen["suppliers"]:
                    assert seen["suppliers"][factory_id] == want


async def _fresh_orgs(w: World) -> tuple[list[Actor], list[Actor]]:
    engine = build_engine(_SETTINGS[0])
    try:
        async with build_sessionmaker(engine)() as session:
            buyers = [await make_actor(session, w.http, Role.BUYER) for _ in range(2)]
            factories = [await make_actor(session, w.http, Role.FACTORY) for _ in range(2)]
    finally:
        await engine.dispose()
    return buyers, factories


READ_ONE = """
query($f: ID!) { factory(id: $f) { access latestAssessment { id findings { questionCode } improvementPlan { id } summary { cluster } } } }
"""
READ_ASSESSMENT = "query($a: ID!) { assessment(id: $a) { id } }"
READ_LISTS = """
{ factories(first: 100) { edges { node { id access } } }
  suppliers(first: 100) { edges { node { factory { id access } } } } }
"""


async def _read_everything(w: World, buyer: Actor) -> dict[str, Any]:
    single, assessment = {}, {}
    for f, factory in enumerate(w.factories):
        assert factory.factory is not None
        body = await gql(w.http, READ_ONE, {"f": str(factory.factory.id)}, actor=buyer)
        single[f] = body["data"]["factory"]
        if f in w.latest:
            body = await gql(w.http, READ_ASSESSMENT, {"a": w.latest[f]}, actor=buyer)
            assessment[f] = body["data"]["assessment"]
    lists = (await gql(w.http, READ_LISTS, actor=buyer))["data"]
    directory = {e["node"]["id"]: e["node"]["access"] for e in lists["factories"]["edges"]}
    suppliers = {
        e["node"]["factory"]["id"]: e["node"]["factory"]["access"]
        for e in lists["suppliers"]["edges"]
    }
    return {
        "single": single,
        "assessment": assessment,
        "directory": directory,
        "suppliers": suppliers,
    }


_SETTINGS: list[Any] = []


def test_read_paths_agree_with_the_model(database_url: str, key_file: Path) -> None:
    loop = asyncio.new_event_loop()
    hub_settings = make_settings(database_url, key_file, HUB_SWEEP_INTERVAL=1)
    _SETTINGS[:] = [hub_settings]
    app = create_app(hub_settings)

    async def start() -> LifespanManager:
        # LifespanManager finds its async library when made: make it inside the loop
        manager = LifespanManager(app)
        await manager.__aenter__()
        return manager

    manager = loop.run_until_complete(start())
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test")
    try:
        engine = build_engine(hub_settings)

        async def assessor() -> Actor:
            async with build_sessionmaker(engine)() as session:
                return await make_actor(session, http, Role.ASSESSOR)

        world = World(
            http=http,
            loop=loop,
            buyers=[],
            factories=[],
            assessor=loop.run_until_complete(assessor()),
        )
        loop.run_until_complete(engine.dispose())
        ConsentModel.world = world
        run_state_machine_as_test(
            ConsentModel,
            settings=settings(
                max_examples=8,
                stateful_step_count=14,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        loop.run_until_complete(http.aclose())
        loop.run_until_complete(manager.__aexit__(None, None, None))
        loop.close()
