"""GraphQL types and thin resolvers of the disclosure log."""

from __future__ import annotations

from datetime import datetime

import strawberry

from hub.consent.models import ConsentScope
from hub.directory.graphql import FactoryType, OrganizationType, load_factory, load_organization
from hub.disclosures.models import Disclosure
from hub.disclosures.service import DisclosureService
from hub.graphql.context import Info
from hub.graphql.ids import parse_id
from hub.graphql.pagination import Connection


@strawberry.type(name="Disclosure")
class DisclosureType:
    at: datetime
    assessment_id: strawberry.ID
    scope: ConsentScope
    consent_ledger_seq: int
    request_id: str
    factory_id: strawberry.Private[object]
    buyer_id: strawberry.Private[object]

    @classmethod
    def from_model(cls, d: Disclosure) -> DisclosureType:
        return cls(
            at=d.at,
            assessment_id=strawberry.ID(str(d.assessment_id)),
            scope=ConsentScope(d.scope),
            consent_ledger_seq=d.consent_ledger_seq,
            request_id=d.request_id,
            factory_id=d.factory_id,
            buyer_id=d.buyer_org_id,
        )

    @strawberry.field
    async def factory(self, info: Info) -> FactoryType:
        return await load_factory(info, self.factory_id, "disclosure")

    @strawberry.field
    async def buyer(self, info: Info) -> OrganizationType:
        return await load_organization(info, self.buyer_id, "disclosure")


@strawberry.input
class DisclosureFilter:
    factory_id: strawberry.ID | None = None
    buyer_id: strawberry.ID | None = None
    since: datetime | None = None
    until: datetime | None = None


@strawberry.type
class DisclosureQuery:
    @strawberry.field(
        description="Who received which report: a factory its own, a buyer its own, auditors all."
    )
    async def disclosures(
        self,
        info: Info,
        filter: DisclosureFilter | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> Connection[DisclosureType]:
        f = filter or DisclosureFilter()
        ctx = info.context
        async with ctx.db.session() as session:
            page = await DisclosureService(session, ctx.authz).page_visible(
                factory_id=parse_id(f.factory_id, "factoryId") if f.factory_id else None,
                buyer_id=parse_id(f.buyer_id, "buyerId") if f.buyer_id else None,
                since=f.since,
                until=f.until,
                first=50 if first is None else first,
                after=after,
                page_max=ctx.settings.page_max,
            )
        return Connection[DisclosureType].from_page(page, DisclosureType.from_model)
