"""Fuzzing every operation as every role against a live `hub serve` in production mode.

schemathesis generates valid requests per operation from schema/schema.graphql;
hypothesis-graphql generates whole documents (several root fields at once), valid and invalid.
IDs are drawn from those that matter: the protected factories' and their reports', the caller's
own, random and malformed ones.

The oracle, for every answer: no 5xx; nothing in it shaped like a traceback, SQL, a driver's
name or a file path; and none of the protected data of two sentinel factories - one that
consented to nobody, one that gave the buyer SUMMARY only - whose findings' comments and
improvement-plan actions carry markers only the assessor that wrote them may read back. No
fuzzed role is that assessor or those factories, so any marker in any answer is a leak. Each
role gets its own database and server: what one role's fuzzing changes (an ADMIN's merge) cannot
excuse what another sees.

HUB_FUZZ_EXAMPLES scales the run (CI: 5 per operation and role; bench/README.md has the
larger command); the counts are printed at the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import hypothesis_graphql
import pytest
import requests
import schemathesis.graphql
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes
from sqlalchemy.ext.asyncio import AsyncSession

from hub.directory.models import Role
from tests.e2e.servers import hub_server
from tests.helpers import Actor, Actors, gql, grant, make_actor, make_published_assessment

SDL = Path(__file__).parents[2] / "schema" / "schema.graphql"
EXAMPLES = int(os.environ.get("HUB_FUZZ_EXAMPLES", "5"))
INTERNALS = re.compile(
    r"Traceback|File \"|site-packages|\.py\b|sqlalchemy|asyncpg|psycopg|postgresql"
    r"|\bSELECT\s.+\sFROM\b|\bINSERT INTO\b|/work/|/tmp/|/usr/lib",
    re.IGNORECASE,
)
TALLY: Counter[str] = Counter()
CLEAN: Counter[Role] = Counter()  # answers without any error: the fuzz reached real work


class Sentinels:
    """The protected data, and the ids worth attacking with."""

    def __init__(self) -> None:
        self.markers: list[str] = []
        self.hidden_ids: list[str] = []  # may appear in no answer's data
        self.ids: list[str] = []


async def arrange(session: AsyncSession, http: httpx.AsyncClient, actors: Actors) -> Sentinels:
    found = Sentinels()
    buyer, own_factory = actors[Role.BUYER], actors[Role.FACTORY]
    author = await make_actor(session, http, Role.ASSESSOR)  # not fuzzed: its reports are bait
    unconsented = await make_actor(session, http, Role.FACTORY)
    summary_only = await make_actor(session, http, Role.FACTORY)
    reports: dict[str, str] = {}
    for name, owner in (("none", unconsented), ("summary", summary_only), ("own", own_factory)):
        assert owner.factory is not None
        marker = f"LEAK-{name}-{uuid.uuid4().hex}" if name != "own" else "own comment"
        if name != "own":
            found.markers.append(marker)
        reports[name] = await make_published_assessment(
            http,
            author,
            owner.factory,
            noncompliant={"CHL.CHL.01", "OSH.EMR.01"},
            comment=marker,
            plan=[{"questionCode": "OSH.EMR.01", "action": f"{marker} plan"}],
        )
        found.ids += [str(owner.factory.id), str(owner.org.id), reports[name]]
    found.hidden_ids.append(reports["none"])
    summary = await grant(http, summary_only, buyer, ["SUMMARY"])
    mine = await grant(http, own_factory, buyer, ["SUMMARY", "FINDINGS", "IMPROVEMENT_PLAN"])
    found.ids += [summary["id"], mine["id"], str(buyer.org.id)]
    # the bait is reachable through the API by its author: its absence elsewhere means something
    for name in ("none", "summary"):
        seen = await gql(
            http,
            "query($a: ID!) { assessment(id: $a) { findings { comment } "
            "improvementPlan { id action } } }",
            {"a": reports[name]},
            actor=author,
        )
        text = json.dumps(seen)
        assert any(marker in text for marker in found.markers), seen
        found.ids += [a["id"] for a in seen["data"]["assessment"]["improvementPlan"]]
    found.ids += [
        str(uuid.uuid4()),
        "not-an-id",
        "",
        "1" * 300,
        "00000000-0000-0000-0000-000000000000",
    ]
    return found


def check(role: Role, label: str, status: int, text: str, sentinels: Sentinels) -> None:
    TALLY[f"{role.value} {label}"] += 1
    assert status < 500, f"{label} as {role.value}: HTTP {status}: {text[:500]}"
    internal = INTERNALS.search(text)
    assert internal is None, f"{label} as {role.value} shows {internal.group(0)!r}: {text[:500]}"
    for marker in sentinels.markers:
        assert marker not in text, f"LEAK: {label} as {role.value}: {text[:1000]}"
    try:
        body = json.loads(text)
        data = json.dumps(body.get("data"))
    except (ValueError, AttributeError):
        return
    if not body.get("errors"):
        CLEAN[role] += 1
    for hidden in sentinels.hidden_ids:
        assert hidden not in data, f"LEAK of {hidden}: {label} as {role.value}: {text[:1000]}"


def fuzz(base: str, role: Role, actor: Actor, sentinels: Sentinels) -> None:
    """Runs in a thread: hypothesis drives synchronous clients."""
    ids = st.sampled_from(sentinels.ids).map(nodes.String)
    dates = st.dates().map(lambda d: nodes.String(d.isoformat()))
    times = st.datetimes().map(lambda t: nodes.String(t.isoformat() + "Z"))
    odd = st.text(max_size=40).map(nodes.String)
    scalars = {"ID": ids, "Date": st.one_of(dates, odd), "DateTime": st.one_of(times, odd)}
    for name, strategy in scalars.items():
        schemathesis.graphql.scalar(name, strategy)
    fuzz_settings = settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    headers = {"Authorization": f"Bearer {actor.token}"}
    endpoint = f"{base}/graphql"

    def drive(
        strategy: st.SearchStrategy[Any], label: str, send: Callable[[Any, str], None]
    ) -> None:
        @fuzz_settings
        @given(strategy)
        def one(example: Any) -> None:
            send(example, label)

        one()

    schema = schemathesis.graphql.from_path(SDL)
    with requests.Session() as session:

        def call(case: Any, label: str) -> None:
            response = case.call(base_url=endpoint, session=session, headers=headers)
            check(role, label, response.status_code, response.text, sentinels)

        for result in schema.get_all_operations():
            operation = result.ok()

            drive(operation.as_strategy(), operation.label, call)

    sdl = SDL.read_text()
    makers = {"queries": hypothesis_graphql.queries, "mutations": hypothesis_graphql.mutations}
    with httpx.Client(timeout=30) as http:

        def post(document: str, label: str) -> None:
            response = http.post(endpoint, json={"query": document}, headers=headers)
            check(role, label, response.status_code, response.text, sentinels)

        for kind, make in makers.items():
            for mode in (hypothesis_graphql.Mode.POSITIVE, hypothesis_graphql.Mode.NEGATIVE):
                strategy = make(sdl, custom_scalars=scalars, mode=mode)
                drive(strategy, f"{kind} documents ({mode.name})", post)


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
async def test_fuzz_finds_no_leak_no_5xx_no_internals(
    role: Role,
    database_url: str,
    key_file: Path,
    session: AsyncSession,
    http: httpx.AsyncClient,
    actors: Actors,
) -> None:
    sentinels = await arrange(session, http, actors)
    before = sum(TALLY.values())
    async with hub_server(
        database_url, key_file, HUB_PRODUCTION="1", HUB_RATE_BUDGET="0", HUB_LOG_FORMAT="text"
    ) as (base, _):
        await asyncio.to_thread(fuzz, base, role, actors[role], sentinels)
    fuzzed = sum(TALLY.values()) - before
    assert fuzzed >= EXAMPLES * 32
    assert CLEAN[role] > 0
    mine = sorted(f"{k.split(' ', 1)[1]} {v}" for k, v in TALLY.items() if k.startswith(role.value))
    print(
        f"\nfuzzed as {role.value}: {fuzzed} requests over {len(mine)} operations and document "
        f"kinds, {CLEAN[role]} answered without error; 0 leaks, 0 5xx, 0 internals shown",
        "; ".join(mine),
        sep="\n  ",
    )
