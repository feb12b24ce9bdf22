"""All SQL of the directory: organisations, OAuth clients, factory profiles."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.filters import any_of
from hub.db.paging import Page, keyset_page
from hub.directory.models import Factory, OAuthClient, Organization, Role


class DirectoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, obj: Organization | OAuthClient | Factory) -> None:
        self.session.add(obj)
        await self.session.flush()

    async def organization(self, org_id: uuid.UUID) -> Organization | None:
        return await self.session.get(Organization, org_id)

    async def organizations_by_ids(self, ids: Sequence[uuid.UUID]) -> list[Organization]:
        result = await self.session.execute(
            select(Organization).where(any_of(Organization.id, ids))
        )
        return list(result.scalars())

    async def organization_named(self, role: Role, name: str) -> Organization | None:
        query = (
            select(Organization)
            .where(Organization.role == role, Organization.name == name)
            .order_by(Organization.created_at)
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def client_by_client_id(self, client_id: str) -> tuple[OAuthClient, Organization] | None:
        query = (
            select(OAuthClient, Organization)
            .join(Organization, Organization.id == OAuthClient.org_id)
            .where(OAuthClient.client_id == client_id)
        )
        row = (await self.session.execute(query)).one_or_none()
        return (row[0], row[1]) if row else None

    async def clients_of(self, org_id: uuid.UUID) -> list[OAuthClient]:
        query = select(OAuthClient).where(OAuthClient.org_id == org_id)
        return list((await self.session.execute(query)).scalars())

    async def factory(self, factory_id: uuid.UUID) -> Factory | None:
        return await self.session.get(Factory, factory_id)

    async def factory_by_hub_id(self, hub_id: str) -> Factory | None:
        query = select(Factory).where(Factory.hub_id == hub_id)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def factories_by_ids(self, ids: Sequence[uuid.UUID]) -> list[Factory]:
        result = await self.session.execute(select(Factory).where(any_of(Factory.id, ids)))
        return list(result.scalars())

    async def factory_claimed_by(self, org_id: uuid.UUID) -> Factory | None:
        query = select(Factory).where(Factory.claimed_by_org_id == org_id)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def factory_named(self, name: str, country: str) -> Factory | None:
        query = (
            select(Factory)
            .where(Factory.name == name, Factory.country == country)
            .order_by(Factory.seq)
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def page_factories(
        self, *, country: str | None, name_contains: str | None, first: int, after: str | None
    ) -> Page[Factory]:
        query: Select[Any] = select(Factory).where(Factory.merged_into_id.is_(None))
        if country:
            query = query.where(Factory.country == country)
        if name_contains:
            # escape LIKE metacharacters so the filter means "contains this text"
            escaped = name_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(Factory.name.ilike(f"%{escaped}%", escape="\\"))
        return await keyset_page(self.session, query.order_by(Factory.seq), first, after)
