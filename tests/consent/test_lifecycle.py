"""The story the hub exists for: publish once, consent, read, revoke, refused."""

from __future__ import annotations

from typing import Any

import httpx

from hub.directory.models import Role
from tests.helpers import (
    Actors,
    error_codes,
    gql,
    grant,
    make_published_assessment,
    revoke,
)

READ = """
query Read($id: ID!) {
  factory(id: $id) {
    access
    latestAssessment {
      id cycle
      summary { cluster questions noncompliant complianceRate }
      findings(noncompliantOnly: true) { questionCode compliant legalReference }
      improvementPlan { questionCode action status }
      sharedWith
    }
  }
}
"""


async def _read(http: httpx.AsyncClient, actors: Actors, role: Role = Role.BUYER) -> dict[str, Any]:
    factory = actors[Role.FACTORY].factory
    assert factory is not None
    return await gql(http, READ, {"id": str(factory.id)}, actor=actors[role])


async def test_publish_consent_read_revoke(http: httpx.AsyncClient, actors: Actors) -> None:
    factory_actor, buyer = actors[Role.FACTORY], actors[Role.BUYER]
    factory = factory_actor.factory
    assert factory is not None
    assessment_id = await make_published_assessment(
        http,
        actors[Role.ASSESSOR],
        factory,
        noncompliant={"OSH.EMR.01", "WKT.OVT.02"},
        plan=[{"questionCode": "OSH.EMR.01", "action": "Unlock exits", "dueDate": "2026-12-01"}],
    )

    before = await _read(http, actors)
    assert before["data"]["factory"]["access"] == []
    assert before["data"]["factory"]["latestAssessment"] is None
    assert error_codes(before) == ["FORBIDDEN"]
    assert before["errors"][0]["path"] == ["factory", "latestAssessment"]

    asked = await gql(
        http,
        "mutation($f: ID!) { requestAccess(factoryId: $f, scopes: [SUMMARY, FINDINGS], "
        'message: "for our 2027 sourcing") { id status scopes } }',
        {"f": str(factory.id)},
        actor=buyer,
    )
    assert asked["data"]["requestAccess"]["status"] == "REQUESTED"

    granted = await grant(http, factory_actor, buyer, ["SUMMARY", "FINDINGS"])
    assert granted["status"] == "GRANTED"
    assert granted["id"] == asked["data"]["requestAccess"]["id"]

    after = await _read(http, actors)
    data = after["data"]["factory"]
    assert data["access"] == ["FINDINGS", "SUMMARY"]
    latest = data["latestAssessment"]
    assert latest["id"] == assessment_id
    assert latest["sharedWith"] == 1
    assert {f["questionCode"] for f in latest["findings"]} == {"OSH.EMR.01", "WKT.OVT.02"}
    assert "Labour Law" in latest["findings"][0]["legalReference"]  # the factory is in KH
    osh = next(s for s in latest["summary"] if s["cluster"] == "OSH")
    assert osh["noncompliant"] == 1
    assert latest["improvementPlan"] is None
    assert error_codes(after) == ["FORBIDDEN"]
    assert after["errors"][0]["path"] == ["factory", "latestAssessment", "improvementPlan"]

    log = await gql(
        http,
        "{ disclosures { totalCount edges { node { scope consentLedgerSeq buyer { id } } } } }",
        actor=factory_actor,
    )
    rows = [e["node"] for e in log["data"]["disclosures"]["edges"]]
    assert {r["scope"] for r in rows} == {"SUMMARY", "FINDINGS"}
    assert {r["consentLedgerSeq"] for r in rows} == {granted["ledgerSeq"]}
    assert {r["buyer"]["id"] for r in rows} == {str(buyer.org.id)}

    revoked = await revoke(http, factory_actor, granted["id"])
    assert revoked["status"] == "REVOKED"
    again = await revoke(http, factory_actor, granted["id"])
    assert again["ledgerSeq"] == revoked["ledgerSeq"], "a repeated revoke must change nothing"

    refused = await _read(http, actors)
    assert refused["data"]["factory"]["access"] == []
    assert refused["data"]["factory"]["latestAssessment"] is None
    assert "OSH.EMR.01" not in str(refused)


async def test_factory_reads_its_own_reports(http: httpx.AsyncClient, actors: Actors) -> None:
    factory = actors[Role.FACTORY].factory
    assert factory is not None
    await make_published_assessment(http, actors[Role.ASSESSOR], factory)
    body = await _read(http, actors, Role.FACTORY)
    assert body["data"]["factory"]["access"] == ["FINDINGS", "IMPROVEMENT_PLAN", "SUMMARY"]
    assert body["data"]["factory"]["latestAssessment"]["improvementPlan"] == []
    assert "errors" not in body
