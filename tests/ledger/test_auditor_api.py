"""The auditor's API: checkpoints, proofs that verify against them, receipts that verify
offline, the consent log, and who may see which part."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from hub.directory.models import Role
from hub.ledger import merkle
from hub.ledger.note import Verifier, verify_checkpoint
from hub.ledger.tasks import integrate_once
from hub.ledger.verify import verify_receipt
from tests.helpers import (
    Actors,
    error_codes,
    gql,
    grant,
    make_actor,
    make_published_assessment,
    revoke,
)

CHECKPOINT = "{ checkpoint { treeSize rootHash keyId note } }"


async def _checkpoint(app: Starlette) -> None:
    await integrate_once(app.state.sessions, app.state.ledger_key, app.state.settings.ledger_origin)


@pytest.fixture
async def history(http: httpx.AsyncClient, app: Starlette, actors: Actors) -> dict[str, object]:
    factory = actors[Role.FACTORY].factory
    assert factory is not None
    await make_published_assessment(http, actors[Role.ASSESSOR], factory)
    granted = await grant(http, actors[Role.FACTORY], actors[Role.BUYER], ["SUMMARY", "FINDINGS"])
    await gql(
        http,
        "query($f: ID!) { factory(id: $f) { latestAssessment { findings { questionCode } } } }",
        {"f": str(factory.id)},
        actor=actors[Role.BUYER],
    )
    await _checkpoint(app)  # digests the disclosure, then signs size 2
    first = (await gql(http, CHECKPOINT, actor=actors[Role.AUDITOR]))["data"]["checkpoint"]
    await revoke(http, actors[Role.FACTORY], granted["id"])
    await _checkpoint(app)
    return {"first": first, "grant": granted}


async def test_checkpoints_are_signed_c2sp_notes(
    http: httpx.AsyncClient, app: Starlette, actors: Actors, history: dict[str, object]
) -> None:
    body = await gql(http, CHECKPOINT, actor=actors[Role.BUYER])
    cp = body["data"]["checkpoint"]
    assert cp["treeSize"] == 3  # GRANTED, DISCLOSURE_DIGEST, REVOKED
    verifier = Verifier.parse(app.state.ledger_key.verifier_key)
    parsed = verify_checkpoint(cp["note"], verifier)
    assert parsed.size == 3
    assert parsed.root.hex() == cp["rootHash"]
    assert cp["note"].startswith("compliance-hub/consent-ledger\n3\n")
    assert cp["note"].split("\n")[4].startswith("\u2014 compliance-hub/consent-ledger ")


async def test_proofs_verify_against_the_checkpoints(
    http: httpx.AsyncClient, actors: Actors, history: dict[str, object]
) -> None:
    auditor = actors[Role.AUDITOR]
    latest = (await gql(http, CHECKPOINT, actor=auditor))["data"]["checkpoint"]
    first = history["first"]
    assert isinstance(first, dict)
    root = bytes.fromhex(latest["rootHash"])
    for seq in range(latest["treeSize"]):
        body = await gql(
            http,
            "query($s: Int!, $n: Int!) { inclusionProof(seq: $s, treeSize: $n) { leafHash path } }",
            {"s": seq, "n": latest["treeSize"]},
            actor=auditor,
        )
        proof = body["data"]["inclusionProof"]
        path = [bytes.fromhex(p) for p in proof["path"]]
        assert merkle.verify_inclusion(
            seq, latest["treeSize"], bytes.fromhex(proof["leafHash"]), path, root
        )
    body = await gql(
        http,
        "query($a: Int!, $b: Int!) { consistencyProof(fromSize: $a, toSize: $b) { path } }",
        {"a": first["treeSize"], "b": latest["treeSize"]},
        actor=auditor,
    )
    path = [bytes.fromhex(p) for p in body["data"]["consistencyProof"]["path"]]
    assert merkle.verify_consistency(
        first["treeSize"], latest["treeSize"], bytes.fromhex(first["rootHash"]), root, path
    )


async def test_receipts_verify_offline_and_only_parties_get_them(
    http: httpx.AsyncClient, app: Starlette, actors: Actors, history: dict[str, object], session
) -> None:
    verifier = Verifier.parse(app.state.ledger_key.verifier_key)
    for role in (Role.FACTORY, Role.BUYER, Role.AUDITOR):
        body = await gql(http, "{ consentReceipt(seq: 0) }", actor=actors[role])
        seq, event, size = verify_receipt(body["data"]["consentReceipt"], verifier)
        assert (seq, event["type"], size) == (0, "GRANTED", 3)
        assert event["consent"] == history["grant"]["id"]  # type: ignore[index]
    stranger = await make_actor(session, http, Role.BUYER)
    for query in ("{ consentReceipt(seq: 0) }", "{ inclusionProof(seq: 0, treeSize: 3) { path } }"):
        body = await gql(http, query, actor=stranger)
        assert error_codes(body) == ["NOT_FOUND"]
    # a tampered receipt fails offline
    text = (await gql(http, "{ consentReceipt(seq: 2) }", actor=actors[Role.AUDITOR]))["data"][
        "consentReceipt"
    ]
    lines = text.split("\n")
    forged = "\n".join(line if not line.startswith("seq ") else "seq 1" for line in lines)
    with pytest.raises(ValueError, match=r"proof|index"):
        verify_receipt(forged, verifier)


async def test_consent_log_for_auditors(
    http: httpx.AsyncClient, actors: Actors, history: dict[str, object]
) -> None:
    query = "query($b: ID) { consentLog(first: 10, buyerId: $b) { treeSize nextAfter events { seq type reason leafHash scopes } } }"
    body = await gql(http, query, {"b": str(actors[Role.BUYER].org.id)}, actor=actors[Role.AUDITOR])
    page = body["data"]["consentLog"]
    assert page["treeSize"] == 3
    assert [e["type"] for e in page["events"]] == [
        "GRANTED",
        "REVOKED",
    ]  # the digest is not a consent event
    assert page["events"][1]["reason"] == "contract ended"
    assert page["nextAfter"] is None
    paged = await gql(
        http, "{ consentLog(first: 1) { nextAfter events { seq } } }", actor=actors[Role.ADMIN]
    )
    assert paged["data"]["consentLog"]["nextAfter"] == 1
    for role in (Role.BUYER, Role.FACTORY, Role.ASSESSOR):
        body = await gql(http, "{ consentLog { treeSize } }", actor=actors[role])
        assert error_codes(body) == ["FORBIDDEN"]


async def test_bad_proof_requests(
    http: httpx.AsyncClient, actors: Actors, history: dict[str, object]
) -> None:
    auditor = actors[Role.AUDITOR]
    for query in (
        "{ inclusionProof(seq: 5, treeSize: 3) { path } }",
        "{ inclusionProof(seq: 0, treeSize: 99) { path } }",
        "{ consistencyProof(fromSize: 0, toSize: 3) { path } }",
        "{ consistencyProof(fromSize: 3, toSize: 2) { path } }",
        "{ consentLog(after: -1) { treeSize } }",
        "{ consentLog(first: 1000) { treeSize } }",
    ):
        body = await gql(http, query, actor=auditor)
        assert error_codes(body) == ["BAD_USER_INPUT"], (query, body)


async def test_checkpoint_on_demand_is_for_admins(http: httpx.AsyncClient, actors: Actors) -> None:
    await grant(http, actors[Role.FACTORY], actors[Role.BUYER], ["SUMMARY"])
    body = await gql(
        http, "mutation { publishCheckpoint { treeSize } }", actor=actors[Role.AUDITOR]
    )
    assert error_codes(body) == ["FORBIDDEN"]
    body = await gql(
        http, "mutation { publishCheckpoint { treeSize note } }", actor=actors[Role.ADMIN]
    )
    assert body["data"]["publishCheckpoint"]["treeSize"] == 1
