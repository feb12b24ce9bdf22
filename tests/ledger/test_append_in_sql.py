"""A consent change appends its leaf in the database (the function consent_log_append): the
bytes it builds must be exactly those hub.ledger.events.leaf_bytes builds, or proofs and
`hub ledger verify` would disagree with the log depending on which path wrote an entry."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.directory.models import Role
from hub.ledger.events import LEAF_TYPE_LINE, EventType, NewEvent, leaf_bytes
from hub.ledger.repository import LedgerRepository
from tests.helpers import Actors, gql, grant, revoke

REQUEST = (
    "mutation($f: ID!) { requestAccess(factoryId: $f, scopes: [FINDINGS, SUMMARY]) "
    "{ id status ledgerSeq } }"
)
DECLINE = (
    'mutation($c: ID!) { declineRequest(consentId: $c, reason: "not now, ünïcode \\"quoted\\"") '
    "{ id status reason declinedAt ledgerSeq } }"
)
ROW = text(
    "SELECT c.status::text, c.scopes, c.expires_at, c.reason, c.ledger_seq, c.updated_at,"
    " c.requested_at, c.granted_at, c.revoked_at, c.declined_at"
    " FROM consents c WHERE c.id = :id"
)


async def test_sql_leaves_are_the_python_leaves(
    session: AsyncSession, http: httpx.AsyncClient, actors: Actors
) -> None:
    factory, buyer = actors[Role.FACTORY], actors[Role.BUYER]
    assert factory.factory is not None
    requested = (await gql(http, REQUEST, {"f": str(factory.factory.id)}, actor=buyer))["data"]
    declined = await gql(http, DECLINE, {"c": requested["requestAccess"]["id"]}, actor=factory)
    assert declined["data"]["declineRequest"]["status"] == "DECLINED"
    await gql(http, REQUEST, {"f": str(factory.factory.id)}, actor=buyer)
    # an expiry given in another zone: the leaf holds the same instant in UTC
    plus_seven = timezone(timedelta(hours=7))
    expires = (datetime.now(UTC) + timedelta(days=30)).astimezone(plus_seven)
    granted = await grant(
        http, factory, buyer, ["SUMMARY", "IMPROVEMENT_PLAN"], expires_at=expires.isoformat()
    )
    revoked = await revoke(http, factory, granted["id"])

    rows = (
        await session.execute(
            text(
                "SELECT l.seq, l.event_id, l.at, l.event_type, l.consent_id, l.factory_id,"
                " l.buyer_org_id, l.actor_id, l.scopes, l.expires_at, l.leaf, l.leaf_hash, r.reason"
                " FROM consent_log l LEFT JOIN consent_event_reasons r ON r.seq = l.seq"
                " ORDER BY l.seq"
            )
        )
    ).all()
    kinds = [row.event_type for row in rows]
    assert kinds == ["REQUESTED", "DECLINED", "REQUESTED", "GRANTED", "REVOKED"]
    for row in rows:
        stored = bytes(row.leaf)
        nonce = json.loads(stored[len(LEAF_TYPE_LINE) :])["nonce"]
        event = NewEvent(
            EventType(row.event_type),
            row.consent_id,
            row.factory_id,
            row.buyer_org_id,
            row.actor_id,
            tuple(row.scopes),
            row.expires_at,
        )
        assert stored == leaf_bytes(row.seq, row.event_id, row.at, event, nonce)
        assert bytes(row.leaf_hash) == hashlib.sha256(b"\x00" + stored).digest()
    grant_leaf = json.loads(bytes(rows[3].leaf)[len(LEAF_TYPE_LINE) :])
    assert grant_leaf["scopes"] == ["IMPROVEMENT_PLAN", "SUMMARY"]
    assert grant_leaf["expiresAt"].endswith("+00:00")
    assert datetime.fromisoformat(grant_leaf["expiresAt"]) == expires
    assert rows[1].reason == 'not now, ünïcode "quoted"'
    assert rows[4].reason == "contract ended"
    assert rows[4].seq == revoked["ledgerSeq"]

    # the row is the state after the last event, as the mutation answered it
    row = (await session.execute(ROW, {"id": uuid.UUID(granted["id"])})).one()
    assert row.status == "REVOKED"
    assert row.ledger_seq == rows[4].seq
    assert row.scopes == ["IMPROVEMENT_PLAN", "SUMMARY"]
    assert row.expires_at == expires
    assert row.reason == "contract ended"
    assert row.revoked_at == rows[4].at == row.updated_at
    assert row.granted_at == rows[3].at
    assert row.requested_at == rows[2].at
    assert row.declined_at == rows[1].at


async def test_append_without_its_consent_row_writes_nothing(session: AsyncSession) -> None:
    event = NewEvent(
        EventType.GRANTED, uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), ("SUMMARY",)
    )
    with pytest.raises(DBAPIError, match="no consent"):
        async with session.begin():
            await LedgerRepository(session).append_consent(event)
    count = (await session.execute(text("SELECT count(*) FROM consent_log"))).scalar_one()
    assert count == 0
