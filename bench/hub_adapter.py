"""The hub as a contender of the shared harness (../shared/bench): W1-W4 as the GraphQL
operations in schema/operations/, answers mapped back to dataset ids."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workload import CAPTURE, W1_FIRST, W4_SCOPES, Adapter

OPERATIONS = Path(__file__).resolve().parent.parent / "schema" / "operations"
W1 = (OPERATIONS / "BenchSupplierStatus.graphql").read_text()
W2 = (OPERATIONS / "BenchFactoryReport.graphql").read_text()
GRANT = (OPERATIONS / "BenchGrant.graphql").read_text()
REVOKE = (OPERATIONS / "BenchRevoke.graphql").read_text()
CLUSTER_BACK = {"CONTRACTS_AND_HR": "CONTRACTS_HR"}


class HubAdapter(Adapter):
    name = "hub"

    def setup(self, ctx: Any) -> None:
        super().setup(ctx)
        state = Path(ctx.state_dir)
        ids = json.loads((state / "ids.json").read_text())
        self.tokens = json.loads((state / "tokens.json").read_text())
        self.buyer_ids = ids["buyers"]
        self.factory_ids = ids["factories"]
        self.factory_back = {v: int(k) for k, v in ids["factories"].items()}
        self.assessment_back = {k: int(v) for k, v in ids["assessments"].items()}

    def _post(
        self, token: str, query: str, variables: dict[str, Any]
    ) -> tuple[str, str, dict[str, str], str]:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        return "POST", "/graphql", headers, json.dumps({"query": query, "variables": variables})

    def request(self, case: str, p: dict[str, Any]) -> tuple[str, str, dict[str, str], str]:
        if case == "W1":
            return self._post(self.tokens["buyers"][str(p["buyer"])], W1, {"first": W1_FIRST})
        if case in ("W2", "W3"):
            return self._post(
                self.tokens["buyers"][str(p["buyer"])],
                W2,
                {"id": self.factory_ids[str(p["factory"])]},
            )
        if case == "W4":
            return self._post(
                self.tokens["factories"][str(p["factory"])],
                GRANT,
                {"b": self.buyer_ids[str(p["buyer"])], "s": W4_SCOPES},
            )
        raise ValueError(case)

    def steps(self, case: str) -> int:
        return 2 if case == "W4" else 1

    def followup(self, case: str, p: dict[str, Any]) -> tuple[str, str, dict[str, str], str]:
        return self._post(self.tokens["factories"][str(p["factory"])], REVOKE, {"id": CAPTURE})

    def followup_capture(self, case: str) -> str:
        return "consentId"

    def normalize(self, case: str, body: Any) -> Any:
        if case == "W4":
            grant, revoke = body
            g = (grant.get("data") or {}).get("grantConsent")
            r = (revoke.get("data") or {}).get("revokeConsent")
            return {
                "granted": bool(g) and g["status"] == "GRANTED",
                "revoked": bool(r) and r["status"] == "REVOKED",
            }
        if case == "W1":
            if body.get("errors"):
                raise RuntimeError(body["errors"])
            out = []
            for edge in body["data"]["suppliers"]["edges"]:
                f = edge["node"]["factory"]
                la = f["latestAssessment"]
                out.append(
                    {
                        "factory_id": self.factory_back[f["id"]],
                        "name": f["name"],
                        "country": f["country"],
                        "assessment_id": self.assessment_back[la["id"]] if la else None,
                        "assessed_at": la["assessedAt"] if la else None,
                        "counts": {
                            CLUSTER_BACK.get(s["cluster"], s["cluster"]): s["noncompliant"]
                            for s in (la["summary"] if la else [])
                            if s["noncompliant"]
                        },
                    }
                )
            return out
        if case in ("W2", "W3"):
            f = (body.get("data") or {}).get("factory")
            if f is None:
                return None
            la = f.get("latestAssessment")
            findings = (la or {}).get("findings") or []
            return {
                "factory_id": self.factory_back[f["id"]],
                "assessment_id": self.assessment_back[la["id"]] if la else None,
                "findings": {
                    (
                        x["questionCode"],
                        CLUSTER_BACK.get(x["cluster"], x["cluster"]),
                        not x["compliant"],
                    )
                    for x in findings
                },
            }
        raise ValueError(case)

    def wrk_forbid(self, case: str) -> list[str]:
        # W3 answers the gated field with null and a FORBIDDEN error: errors are expected there
        return ['"questionCode"'] if case == "W3" else ['"errors"']

    def wrk_require(self, case: str) -> list[str]:
        return {"W1": ['"suppliers"'], "W2": ['"questionCode"'], "W3": [], "W4": ['"REVOKED"']}[
            case
        ]

    async def w4_revoked(self, p: dict[str, Any]) -> bool:
        import uuid

        import asyncpg

        conn = await asyncpg.connect(self.ctx.database_url)
        try:
            status = await conn.fetchval(
                "SELECT status FROM consents WHERE factory_id = $1 AND buyer_org_id = $2",
                uuid.UUID(self.factory_ids[str(p["factory"])]),
                uuid.UUID(self.buyer_ids[str(p["buyer"])]),
            )
        finally:
            await conn.close()
        return bool(status == "REVOKED")


ADAPTER = HubAdapter()
