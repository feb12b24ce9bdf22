"""Reading the disclosure log: a factory sees who has seen its reports, a buyer what it
received, auditors and admins everything."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hub.authz.parties import party_filter
from hub.authz.service import RequestAuthz
from hub.db.paging import Page, check_first
from hub.disclosures.models import Disclosure
from hub.disclosures.repository import DisclosureRepository


class DisclosureService:
    def __init__(self, session: AsyncSession, authz: RequestAuthz) -> None:
        self.repo = DisclosureRepository(session)
        self.session = session
        self.authz = authz

    async def page_visible(
        self,
        *,
        factory_id: uuid.UUID | None,
        buyer_id: uuid.UUID | None,
        since: datetime | None,
        until: datetime | None,
        first: int,
        after: str | None,
        page_max: int,
    ) -> Page[Disclosure]:
        check_first(first, page_max)
        narrowed = await party_filter(self.session, self.authz, "disclosure", factory_id, buyer_id)
        if narrowed is None:
            return Page.empty()
        return await self.repo.page(
            factory_id=narrowed.factory_id,
            buyer_id=narrowed.buyer_id,
            since=since,
            until=until,
            first=first,
            after=after,
        )
