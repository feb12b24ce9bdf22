"""The outbox: one row per event, written in the transaction of the change it reports.

A row that exists was committed with its change, and a rolled-back change leaves none, so
subscriptions (hub.events.feed) and webhooks (hub.webhooks.dispatcher) never report what did
not happen and lose nothing when a process dies after commit: they read from here.

Who may hear of an event is stored with it (hub.events.audience): `parties` always may (the
factory's organisation, the consent's buyer, buyers whose list holds a merged record); when
`gated_scope` is set, buyers holding that consent scope on the factory at the time of delivery
may too (only those in `gated_to`, when it is set).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Identity, Index, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base


class OutboxEvent(Base):
    __tablename__ = "events"
    __table_args__ = (
        # the per-process feed reads in (txid, id) order past its cursor
        Index("ix_events_txid_id", "txid", "id"),
        # webhook fan-out claims what it has not handled yet
        Index("ix_events_pending_fanout", "id", postgresql_where=text("fanned_out_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # the writing transaction's id: a reader that has seen every row below the oldest running
    # transaction can never be passed by a late commit (ids are taken at insert, not commit)
    txid: Mapped[int] = mapped_column(
        BigInteger, server_default=text("(pg_current_xact_id()::text)::bigint")
    )
    # the idempotency key receivers see (webhook-id, eventId)
    event_id: Mapped[uuid.UUID] = mapped_column(server_default=func.gen_random_uuid())
    type: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    factory_id: Mapped[uuid.UUID | None] = mapped_column()
    parties: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)))
    gated_scope: Mapped[str | None] = mapped_column(Text)
    gated_to: Mapped[list[uuid.UUID] | None] = mapped_column(ARRAY(UUID(as_uuid=True)))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    fanned_out_at: Mapped[datetime | None] = mapped_column()
