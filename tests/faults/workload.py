"""Writers and readers hammering a live hub while a fault strikes. Each answer is sorted into
done, a clean refusal (the database fault's reason with HTTP 503) or anything else; what was
done is remembered for the checks afterwards."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import httpx

from tests.faults.checks import Acknowledged
from tests.helpers import Actor

GRANT = "mutation($b: ID!) { grantConsent(buyerId: $b, scopes: [SUMMARY]) { id status ledgerSeq } }"
REVOKE = 'mutation($c: ID!) { revokeConsent(consentId: $c, reason: "fault test") { id status ledgerSeq } }'
UPLOAD = (
    "mutation($r: [SupplierRecordInput!]!) { uploadSupplierList(records: $r) { created matched } }"
)
READ = "{ suppliers(first: 20) { totalCount edges { node { factory { name } } } } }"
RECORDS = 20
_uploads = itertools.count()


def outcome(response: httpx.Response) -> tuple[str, dict[str, Any] | None]:
    try:
        body = response.json()
    except json.JSONDecodeError:
        return f"not JSON ({response.status_code})", None
    errors = body.get("errors") or []
    if response.status_code == 200 and not errors and body.get("data"):
        return "done", body["data"]
    reasons = {e.get("extensions", {}).get("reason") for e in errors}
    if response.status_code == 503 and len(reasons) == 1 and None not in reasons:
        return f"refused: {reasons.pop()}", None
    codes = sorted({str(e.get("extensions", {}).get("code")) for e in errors})
    return f"other: HTTP {response.status_code} {','.join(codes)} {errors[:1]}", None


async def call(
    http: httpx.AsyncClient,
    actor: Actor,
    query: str,
    variables: dict[str, Any],
    acked: Acknowledged,
) -> dict[str, Any] | None:
    try:
        response = await http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=actor.headers
        )
    except httpx.TransportError as exc:
        acked.outcomes[f"no answer ({type(exc).__name__})"] += 1
        return None
    kind, data = outcome(response)
    acked.outcomes[kind] += 1
    return data


async def consent_writer(
    http: httpx.AsyncClient, factory: Actor, buyer: Actor, acked: Acknowledged, stop: asyncio.Event
) -> None:
    """Grant, revoke, grant, ... remembering each acknowledged ledger event."""
    consent: str | None = None
    while not stop.is_set():
        if consent is None:
            data = await call(http, factory, GRANT, {"b": str(buyer.org.id)}, acked)
            if data:
                granted = data["grantConsent"]
                consent = granted["id"]
                acked.ledger.append((granted["ledgerSeq"], granted["id"], "GRANTED"))
        else:
            data = await call(http, factory, REVOKE, {"c": consent}, acked)
            if data:
                revoked = data["revokeConsent"]
                acked.ledger.append((revoked["ledgerSeq"], revoked["id"], "REVOKED"))
                consent = None
        if data is None:
            await asyncio.sleep(0.05)


async def upload_writer(
    http: httpx.AsyncClient, buyer: Actor, acked: Acknowledged, stop: asyncio.Event
) -> None:
    """Supplier lists of RECORDS new factories each, under a buyerRef prefix of their own."""
    while not stop.is_set():
        prefix = f"up{next(_uploads)}"
        records = [
            {"buyerRef": f"{prefix}-{i}", "name": f"Fault Test Mill {prefix} {i}", "country": "KH"}
            for i in range(RECORDS)
        ]
        acked.attempted_uploads[prefix] = RECORDS
        if await call(http, buyer, UPLOAD, {"r": records}, acked):
            acked.uploads[prefix] = RECORDS
        else:
            await asyncio.sleep(0.05)


async def reader(
    http: httpx.AsyncClient, buyer: Actor, acked: Acknowledged, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        if await call(http, buyer, READ, {}, acked) is None:
            await asyncio.sleep(0.05)
