"""All SQL of the disclosure log (append-only: rows are inserted, never changed)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.paging import Page, keyset_page
from hub.disclosures.models import Disclosure

if TYPE_CHECKING:
    from hub.disclosures.recorder import Disclosed


class DisclosureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_batch(
        self,
        at: datetime,
        request_id: str,
        buyer_id: uuid.UUID,
        items: Sequence[tuple[Disclosed, int]],
    ) -> None:
        """One INSERT for the whole request."""
        await self.session.execute(
            insert(Disclosure).values(
                [
                    {
                        "at": at,
                        "request_id": request_id,
                        "buyer_org_id": buyer_id,
                        "factory_id": item.factory_id,
                        "assessment_id": item.assessment_id,
                        "scope": item.scope,
                        "consent_ledger_seq": seq,
                    }
                    for item, seq in items
                ]
            )
        )

    async def page(
        self,
        *,
        factory_id: uuid.UUID | None,
        buyer_id: uuid.UUID | None,
        since: datetime | None,
        until: datetime | None,
        first: int,
        after: str | None,
    ) -> Page[Disclosure]:
        query: Select[Any] = select(Disclosure)
        if factory_id is not None:
            query = query.where(Disclosure.factory_id == factory_id)
        if buyer_id is not None:
            query = query.where(Disclosure.buyer_org_id == buyer_id)
        if since is not None:
            query = query.where(Disclosure.at >= since)
        if until is not None:
            query = query.where(Disclosure.at < until)
        return await keyset_page(self.session, query.order_by(Disclosure.id), first, after)
