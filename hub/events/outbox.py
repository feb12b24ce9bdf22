"""Writing events: one INSERT in the caller's transaction, and a NOTIFY that PostgreSQL
delivers only if and when that transaction commits (hub.events.models says why)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession

NOTIFY_CHANNEL = "hub_events"

# one round trip; the empty payload lets PostgreSQL fold a transaction's notifications into one
_EMIT = text(
    "WITH e AS (INSERT INTO events (type, factory_id, parties, gated_scope, gated_to, data)"
    " VALUES (:type, :factory_id, :parties, :gated_scope, :gated_to, :data) RETURNING 1)"
    " SELECT pg_notify(:channel, '') FROM e"
).bindparams(
    bindparam("factory_id", type_=UUID(as_uuid=True)),
    bindparam("parties", type_=ARRAY(UUID(as_uuid=True))),
    bindparam("gated_to", type_=ARRAY(UUID(as_uuid=True))),
    bindparam("data", type_=JSONB),
)


async def emit(
    session: AsyncSession,
    event_type: str,
    *,
    factory_id: uuid.UUID | None,
    parties: Iterable[uuid.UUID | None],
    data: dict[str, Any],
    gated_scope: str | None = None,
    gated_to: Iterable[uuid.UUID] | None = None,
) -> None:
    """Record an event with the change the session is making. Ids only in ``data``: a body is
    sent to receivers whose consent may end before they read it."""
    await session.execute(
        _EMIT,
        {
            "type": event_type,
            "factory_id": factory_id,
            "parties": sorted({p for p in parties if p is not None}),
            "gated_scope": gated_scope,
            "gated_to": sorted(set(gated_to)) if gated_to is not None else None,
            "data": data,
            "channel": NOTIFY_CHANNEL,
        },
    )
