"""Supplier links: a buyer's own supplier record resolved to a hub factory."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Text, UniqueConstraint, func
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
    )

    buyer_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    factory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("factories.id"))
    buyer_ref: Mapped[str] = mapped_column(Text)
    outcome: Mapped[MatchOutcome] = mapped_column(enum_column(MatchOutcome, "match_outcome"))
    confidence: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
