"""Current consent per (factory, buyer): a projection of the consent ledger."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, HasId
from hub.db.types import enum_column


class ConsentScope(enum.Enum):
    SUMMARY = "SUMMARY"
    FINDINGS = "FINDINGS"
    IMPROVEMENT_PLAN = "IMPROVEMENT_PLAN"


class ConsentStatus(enum.Enum):
    REQUESTED = "REQUESTED"
    GRANTED = "GRANTED"
    DECLINED = "DECLINED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


class Consent(Base, HasId):
    __tablename__ = "consents"
    __table_args__ = (
        UniqueConstraint("factory_id", "buyer_org_id"),
        Index("ix_consents_buyer_status", "buyer_org_id", "status"),
    )

    factory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("factories.id"))
    buyer_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    status: Mapped[ConsentStatus] = mapped_column(enum_column(ConsentStatus, "consent_status"))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    message: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime | None] = mapped_column()
    granted_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    declined_at: Mapped[datetime | None] = mapped_column()
    # ledger index of the event that produced this state
    ledger_seq: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
