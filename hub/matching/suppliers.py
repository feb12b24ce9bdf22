"""A buyer's supplier list as it reads it (the `suppliers` query)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.authz.service import RequestAuthz
from hub.consent.models import ConsentStatus
from hub.db.paging import Page, check_first
from hub.directory.models import Factory
from hub.directory.service import normalise_country
from hub.errors import Forbidden
from hub.matching.models import SupplierLink
from hub.matching.repository import SupplierRepository


class SupplierService:
    def __init__(self, session: AsyncSession, authz: RequestAuthz) -> None:
        self.repo = SupplierRepository(session)
        self.authz = authz

    async def page(
        self,
        *,
        country: str | None,
        consent_status: ConsentStatus | None,
        first: int,
        after: str | None,
        page_max: int,
    ) -> Page[tuple[SupplierLink, Factory]]:
        buyer = self.authz.principal.org_id
        if not self.authz.may("list", "supplier", buyer):
            raise Forbidden("suppliers are a buyer's list")
        check_first(first, page_max)
        return await self.repo.page(
            buyer,
            country=normalise_country(country) if country else None,
            consent_status=consent_status,
            first=first,
            after=after,
        )
