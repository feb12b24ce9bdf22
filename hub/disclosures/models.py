"""One row per request and factory whose protected data a buyer received."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Identity, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base
from hub.ledger import digests


class Disclosure(Base):
    __tablename__ = "disclosures"
    __table_args__ = (
        Index("ix_disclosures_factory_at", "factory_id", "at"),
        Index("ix_disclosures_buyer_at", "buyer_org_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column()
    request_id: Mapped[str] = mapped_column(Text)
    buyer_org_id: Mapped[uuid.UUID] = mapped_column()
    factory_id: Mapped[uuid.UUID] = mapped_column()
    assessment_id: Mapped[uuid.UUID] = mapped_column()
    scope: Mapped[str] = mapped_column(Text)
    # the ledger index of the grant that covered this disclosure
    consent_ledger_seq: Mapped[int] = mapped_column(BigInteger)

    def digest_record(self) -> list[object]:
        """This row as the ledger's disclosure digests commit to it (hub.ledger.digests)."""
        return digests.record(
            self.id,
            self.at,
            self.request_id,
            self.buyer_org_id,
            self.factory_id,
            self.assessment_id,
            self.scope,
            self.consent_ledger_seq,
        )
