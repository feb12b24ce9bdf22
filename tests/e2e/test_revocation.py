"""A revocation binds every request that starts after it returns, on every process; and under
churn no disclosure is ever recorded after the revocation of the grant it relied on."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.directory.models import Role
from tests.e2e.servers import hub_server
from tests.helpers import Actors, fetch_token, gql, grant, make_published_assessment, revoke

READ = "query($f: ID!) { factory(id: $f) { latestAssessment { findings { questionCode } } } }"


async def test_revocation_binds_across_processes(
    http: httpx.AsyncClient, actors: Actors, database_url: str, key_file: Path
) -> None:
    factory = actors[Role.FACTORY].factory
    assert factory is not None
    await make_published_assessment(
        http, actors[Role.ASSESSOR], factory, noncompliant={"OSH.EMR.01"}
    )
    buyer = actors[Role.BUYER]
    # the sweeper and listener run too: this is the production configuration
    async with (
        hub_server(database_url, key_file) as (a, _),
        hub_server(database_url, key_file) as (b, _),
        httpx.AsyncClient(base_url=a) as via_a,
        httpx.AsyncClient(base_url=b) as via_b,
    ):
        factory_token = await fetch_token(
            via_a, actors[Role.FACTORY].client_id, actors[Role.FACTORY].client_secret
        )
        buyer_token = await fetch_token(via_b, buyer.client_id, buyer.client_secret)
        as_factory = {"Authorization": f"Bearer {factory_token}"}
        as_buyer = {"Authorization": f"Bearer {buyer_token}"}
        for round_ in range(25):
            granted = await via_a.post(
                "/graphql",
                json={
                    "query": "mutation($b: ID!) { grantConsent(buyerId: $b, scopes: [SUMMARY, FINDINGS]) { id } }",
                    "variables": {"b": str(buyer.org.id)},
                },
                headers=as_factory,
            )
            consent_id = granted.json()["data"]["grantConsent"]["id"]
            seen = (
                await via_b.post(
                    "/graphql",
                    json={"query": READ, "variables": {"f": str(factory.id)}},
                    headers=as_buyer,
                )
            ).json()
            assert "OSH.EMR.01" in str(seen), (round_, seen)
            revoked = await via_a.post(
                "/graphql",
                json={
                    "query": "mutation($c: ID!) { revokeConsent(consentId: $c) { status } }",
                    "variables": {"c": consent_id},
                },
                headers=as_factory,
            )
            assert revoked.json()["data"]["revokeConsent"]["status"] == "REVOKED"
            # the very next request, on the other process
            after = (
                await via_b.post(
                    "/graphql",
                    json={"query": READ, "variables": {"f": str(factory.id)}},
                    headers=as_buyer,
                )
            ).json()
            assert "OSH.EMR.01" not in str(after), (round_, after)
            assert after["data"]["factory"]["latestAssessment"] is None


async def test_churn_never_records_a_disclosure_after_its_revocation(
    http: httpx.AsyncClient, actors: Actors, session: AsyncSession
) -> None:
    factory = actors[Role.FACTORY].factory
    assert factory is not None
    await make_published_assessment(
        http, actors[Role.ASSESSOR], factory, noncompliant={"OSH.EMR.01"}
    )
    buyer = actors[Role.BUYER]
    first = await grant(http, actors[Role.FACTORY], buyer, ["SUMMARY", "FINDINGS"])
    consent_id = first["id"]
    stop = time.monotonic() + 6
    reads = {"seen": 0, "refused": 0}

    async def toggler() -> None:
        # short pauses: with none, every read overlaps a revocation and is (rightly) refused
        while time.monotonic() < stop:
            await revoke(http, actors[Role.FACTORY], consent_id)
            await asyncio.sleep(0.02)
            await grant(http, actors[Role.FACTORY], buyer, ["SUMMARY", "FINDINGS"])
            await asyncio.sleep(0.05)

    async def reader() -> None:
        while time.monotonic() < stop:
            body = await gql(http, READ, {"f": str(factory.id)}, actor=buyer)
            latest = (body.get("data") or {}).get("factory") or {}
            reads["seen" if latest.get("latestAssessment") else "refused"] += 1

    # three readers: the test pool has four connections, and a fourth busy reader would
    # starve the toggler of one
    await asyncio.gather(toggler(), *(reader() for _ in range(3)))
    assert reads["seen"] > 0
    assert reads["refused"] > 0

    late = await session.execute(
        text(
            """
            SELECT d.id, d.at, d.consent_ledger_seq, e.seq AS ended_seq, e.at AS ended_at
            FROM disclosures d
            JOIN consent_log g ON g.seq = d.consent_ledger_seq
            JOIN consent_log e ON e.factory_id = d.factory_id AND e.buyer_org_id = d.buyer_org_id
                AND e.seq > g.seq AND e.event_type IN ('REVOKED', 'EXPIRED')
            WHERE e.at < d.at
            """
        )
    )
    assert late.all() == []
    wrong = await session.execute(
        text(
            "SELECT count(*) FROM disclosures d JOIN consent_log g ON g.seq = d.consent_ledger_seq "
            "WHERE g.event_type <> 'GRANTED' OR g.factory_id <> d.factory_id OR g.buyer_org_id <> d.buyer_org_id"
        )
    )
    assert wrong.scalar_one() == 0
    total = (await session.execute(text("SELECT count(*) FROM disclosures"))).scalar_one()
    assert total >= reads["seen"]
