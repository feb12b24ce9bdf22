"""Supplier links: a buyer's own supplier record resolved to a hub factory."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    FetchedValue,
    Float,
    ForeignKey,
    Index,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, HasCreatedAt, HasId
from hub.db.types import enum_column


class MatchOutcome(enum.Enum):
    MATCHED = "MATCHED"
    CREATED = "CREATED"
    NEEDS_REVIEW = "NEEDS_REVIEW"


class SupplierLink(Base, HasId, HasCreatedAt):
    __tablename__ = "supplier_links"
    __table_args__ = (
        # a re-upload is idempotent: the buyer's own reference is the key
        UniqueConstraint("buyer_org_id", "buyer_ref"),
        Index("ix_supplier_links_factory_buyer", "factory_id", "buyer_org_id"),
        # the list's order (factories in the order they joined the hub) read from one index, so
        # a page costs the same for a buyer with 20 suppliers or 4,000
        Index("ix_supplier_links_buyer_factory_seq", "buyer_org_id", "factory_seq", "id"),
    )

    buyer_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    factory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("factories.id"))
    # factories.seq of factory_id, set by a trigger on every insert and on every change of
    # factory_id (a merge), so no writer can get it wrong
    factory_seq: Mapped[int] = mapped_column(BigInteger, server_default=FetchedValue())
    buyer_ref: Mapped[str] = mapped_column(Text)
    outcome: Mapped[MatchOutcome] = mapped_column(enum_column(MatchOutcome, "match_outcome"))
    confidence: Mapped[float] = mapped_column(Float)
    # a hash of the record as the buyer last sent it: an unchanged record is not matched again
    record_hash: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class Decision(enum.Enum):
    CONFIRMED = "CONFIRMED"
    REJECTED = "REJECTED"


class MatchDecision(Base, HasCreatedAt):
    """A buyer's word on one (record, factory) pair, applied to every later upload."""

    __tablename__ = "match_decisions"

    buyer_org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id"), primary_key=True
    )
    buyer_ref: Mapped[str] = mapped_column(Text, primary_key=True)
    factory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("factories.id"), primary_key=True)
    decision: Mapped[Decision] = mapped_column(enum_column(Decision, "match_decision"))


class PendingMatch(Base, HasCreatedAt):
    """A record in the grey zone, waiting for the buyer to pick a candidate or a new factory."""

    __tablename__ = "pending_matches"

    buyer_org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id"), primary_key=True
    )
    buyer_ref: Mapped[str] = mapped_column(Text, primary_key=True)
    record: Mapped[dict[str, Any]] = mapped_column(JSONB)
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
