"""All SQL of supplier links."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.consent.models import Consent, ConsentStatus
from hub.consent.repository import status_is
from hub.db.paging import Page, keyset_page
from hub.directory.models import Factory
from hub.matching.models import MatchOutcome, SupplierLink


class SupplierRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ensure_link(self, buyer_id: uuid.UUID, factory: Factory) -> None:
        """A buyer that asks a factory for access (or is granted it) has it as a supplier."""
        exists = await self.session.execute(
            select(SupplierLink.id).where(
                SupplierLink.buyer_org_id == buyer_id, SupplierLink.factory_id == factory.id
            )
        )
        if exists.first() is not None:
            return
        await self.session.execute(
            insert(SupplierLink)
            .values(
                id=uuid.uuid4(),
                buyer_org_id=buyer_id,
                factory_id=factory.id,
                buyer_ref=factory.hub_id,
                outcome=MatchOutcome.MATCHED.name,
                confidence=1.0,
            )
            .on_conflict_do_nothing()
        )

    async def page(
        self,
        buyer_id: uuid.UUID,
        *,
        country: str | None,
        consent_status: ConsentStatus | None,
        first: int,
        after: str | None,
    ) -> Page[tuple[SupplierLink, Factory]]:
        query = (
            select(SupplierLink, Factory)
            .join(Factory, Factory.id == SupplierLink.factory_id)
            .where(SupplierLink.buyer_org_id == buyer_id)
        )
        if country:
            query = query.where(Factory.country == country)
        if consent_status is not None:
            query = query.join(
                Consent,
                (Consent.factory_id == SupplierLink.factory_id)
                & (Consent.buyer_org_id == buyer_id),
            ).where(status_is(consent_status))
        query = query.order_by(Factory.seq, SupplierLink.id)
        return await keyset_page(self.session, query, first, after, whole_row=True)
