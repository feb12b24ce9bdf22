"""All SQL of the current-consent projection (the `consents` table)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.consent.models import Consent, ConsentStatus
from hub.db.filters import any_of
from hub.db.paging import Page, keyset_page


def status_is(status: ConsentStatus) -> ColumnElement[bool]:
    """The status as people see it: a grant past its expiry is EXPIRED from that second,
    before the sweeper writes the EXPIRED event."""
    expired = (Consent.expires_at.is_not(None)) & (Consent.expires_at <= func.now())
    if status is ConsentStatus.GRANTED:
        return (Consent.status == ConsentStatus.GRANTED) & ~expired
    if status is ConsentStatus.EXPIRED:
        return (Consent.status == ConsentStatus.EXPIRED) | (
            (Consent.status == ConsentStatus.GRANTED) & expired
        )
    return Consent.status == status


class ConsentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_update(self, factory_id: uuid.UUID, buyer_id: uuid.UUID) -> Consent | None:
        """The pair's row, locked until commit: concurrent changes to one pair serialise here."""
        query = (
            select(Consent)
            .where(Consent.factory_id == factory_id, Consent.buyer_org_id == buyer_id)
            .with_for_update()
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def by_id_for_update(self, consent_id: uuid.UUID) -> Consent | None:
        query = select(Consent).where(Consent.id == consent_id).with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def add(self, consent: Consent) -> None:
        self.session.add(consent)
        await self.session.flush()

    async def expired_grants(self, now: datetime, limit: int) -> list[Consent]:
        query = (
            select(Consent)
            .where(Consent.status == ConsentStatus.GRANTED, Consent.expires_at <= now)
            .order_by(Consent.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.execute(query)).scalars())

    async def page(
        self,
        *,
        factory_id: uuid.UUID | None,
        buyer_id: uuid.UUID | None,
        status: ConsentStatus | None,
        first: int,
        after: str | None,
    ) -> Page[Consent]:
        query: Select[Any] = select(Consent)
        if factory_id is not None:
            query = query.where(Consent.factory_id == factory_id)
        if buyer_id is not None:
            query = query.where(Consent.buyer_org_id == buyer_id)
        if status is not None:
            query = query.where(status_is(status))
        return await keyset_page(self.session, query.order_by(Consent.ledger_seq), first, after)

    async def by_pairs(
        self, buyer_id: uuid.UUID, factory_ids: Sequence[uuid.UUID]
    ) -> list[Consent]:
        query = select(Consent).where(
            Consent.buyer_org_id == buyer_id, any_of(Consent.factory_id, factory_ids)
        )
        return list((await self.session.execute(query)).scalars())

    async def in_force_counts(self, factory_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """How many buyers each factory's reports serve now (grants in force)."""
        query = (
            select(Consent.factory_id, func.count())
            .where(any_of(Consent.factory_id, factory_ids), status_is(ConsentStatus.GRANTED))
            .group_by(Consent.factory_id)
        )
        return {fid: int(n) for fid, n in await self.session.execute(query)}

    async def of_factory_for_update(self, factory_id: uuid.UUID) -> list[Consent]:
        query = (
            select(Consent)
            .where(Consent.factory_id == factory_id)
            .order_by(Consent.id)
            .with_for_update()
        )
        return list((await self.session.execute(query)).scalars())
