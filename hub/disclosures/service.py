"""Reading the disclosure log: a factory sees who has seen its reports, a buyer what it
received, auditors and admins everything."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hub.authz.service import RequestAuthz
from hub.db.paging import Page, check_first
from hub.directory.models import Role
from hub.directory.repository import DirectoryRepository
from hub.disclosures.models import Disclosure
from hub.disclosures.repository import DisclosureRepository
from hub.errors import Forbidden


class DisclosureService:
    def __init__(self, session: AsyncSession, authz: RequestAuthz) -> None:
        self.repo = DisclosureRepository(session)
        self.directory = DirectoryRepository(session)
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
        principal = self.authz.principal
        if not self.authz.may("list", "disclosure"):
            if not self.authz.may("list", "disclosure", principal.org_id):
                raise Forbidden("your role does not read the disclosure log")
            empty: Page[Disclosure] = Page([], False, None, 0)
            if principal.role is Role.BUYER:
                if buyer_id not in (None, principal.org_id):
                    return empty
                buyer_id = principal.org_id
            else:
                own = await self.directory.factory_claimed_by(principal.org_id)
                if own is None or factory_id not in (None, own.id):
                    return empty
                factory_id = own.id
        return await self.repo.page(
            factory_id=factory_id,
            buyer_id=buyer_id,
            since=since,
            until=until,
            first=first,
            after=after,
        )
