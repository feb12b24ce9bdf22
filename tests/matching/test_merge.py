"""Merging duplicate factory records: everything follows the survivor, the old id redirects,
and the consent move is in the ledger, which still verifies."""

from __future__ import annotations

import io

import httpx
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from hub.directory.models import Role
from hub.directory.service import DirectoryService, NewFactory
from hub.ledger.export import export
from hub.ledger.tasks import integrate_once
from hub.ledger.verify import verify
from tests.helpers import Actors, error_codes, gql, grant, make_published_assessment

MERGE = (
    "mutation($s: ID!, $m: ID!) { mergeFactories(survivorId: $s, mergedId: $m) { id hubId osId } }"
)
READ = "query($f: ID!) { factory(id: $f) { id access latestAssessment { id } } }"


async def test_merge_moves_everything_and_the_ledger_still_verifies(
    http: httpx.AsyncClient, app: Starlette, actors: Actors, session: AsyncSession
) -> None:
    claimed = actors[Role.FACTORY].factory
    assert claimed is not None
    assessment_id = await make_published_assessment(http, actors[Role.ASSESSOR], claimed)
    await grant(http, actors[Role.FACTORY], actors[Role.BUYER], ["SUMMARY"])
    duplicate = await DirectoryService(session).create_factory(
        NewFactory("Factory Org Duplicate", claimed.country, os_id="OS-DUP")
    )
    await session.commit()

    merged = await gql(
        http, MERGE, {"s": str(duplicate.id), "m": str(claimed.id)}, actor=actors[Role.ADMIN]
    )
    assert merged["data"]["mergeFactories"]["id"] == str(duplicate.id)
    assert merged["data"]["mergeFactories"]["osId"] == "OS-DUP"

    # the old id answers as the survivor, and the buyer's consent came along
    body = await gql(http, READ, {"f": str(claimed.id)}, actor=actors[Role.BUYER])
    assert body["data"]["factory"]["id"] == str(duplicate.id)
    assert body["data"]["factory"]["access"] == ["SUMMARY"]
    assert body["data"]["factory"]["latestAssessment"]["id"] == assessment_id
    # the factory organisation now holds the survivor; the auditor sees the old row too
    query = "{ consents { edges { node { status factory { id } } } } }"
    rows = {}
    for role in (Role.FACTORY, Role.AUDITOR):
        body = await gql(http, query, actor=actors[role])
        rows[role] = {
            (e["node"]["status"], e["node"]["factory"]["id"])
            for e in body["data"]["consents"]["edges"]
        }
    assert rows[Role.FACTORY] == {("GRANTED", str(duplicate.id))}
    assert rows[Role.AUDITOR] == {("REVOKED", str(claimed.id)), ("GRANTED", str(duplicate.id))}
    log = await gql(http, "{ consentLog { events { type reason } } }", actor=actors[Role.AUDITOR])
    assert [e["type"] for e in log["data"]["consentLog"]["events"]][-2:] == ["REVOKED", "GRANTED"]
    assert "merged into" in log["data"]["consentLog"]["events"][-1]["reason"]

    await integrate_once(app.state.sessions, app.state.ledger_key, app.state.settings.ledger_origin)
    out = io.StringIO()
    async with app.state.sessions() as s:
        await export(s, out, app.state.settings.ledger_origin)
    report = verify(out.getvalue().splitlines(), app.state.ledger_key.verifier)
    assert report.ok, report.summary()

    again = await gql(
        http, MERGE, {"s": str(duplicate.id), "m": str(claimed.id)}, actor=actors[Role.ADMIN]
    )
    assert error_codes(again) == ["CONFLICT"]


async def test_merge_guards(http: httpx.AsyncClient, actors: Actors, session: AsyncSession) -> None:
    a = await DirectoryService(session).create_factory(NewFactory("Alpha Mill", "KH"))
    b = await DirectoryService(session).create_factory(NewFactory("Alpha Mill", "VN"))
    await session.commit()
    body = await gql(http, MERGE, {"s": str(a.id), "m": str(b.id)}, actor=actors[Role.AUDITOR])
    assert error_codes(body) == ["FORBIDDEN"]
    body = await gql(http, MERGE, {"s": str(a.id), "m": str(a.id)}, actor=actors[Role.ADMIN])
    assert error_codes(body) == ["BAD_USER_INPUT"]
    body = await gql(http, MERGE, {"s": str(a.id), "m": str(b.id)}, actor=actors[Role.ADMIN])
    assert error_codes(body) == ["BAD_USER_INPUT"]  # two countries: two factories
    body = await gql(
        http,
        MERGE,
        {"s": str(a.id), "m": "00000000-0000-0000-0000-000000000000"},
        actor=actors[Role.ADMIN],
    )
    assert error_codes(body) == ["NOT_FOUND"]
