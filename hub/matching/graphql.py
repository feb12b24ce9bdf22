"""GraphQL types and thin resolvers of a buyer's suppliers."""

from __future__ import annotations

import strawberry

from hub.consent.graphql import ConsentType
from hub.consent.models import ConsentStatus
from hub.directory.graphql import FactoryType
from hub.directory.models import Factory
from hub.graphql.context import Info
from hub.graphql.pagination import Connection
from hub.matching.models import SupplierLink
from hub.matching.service import SupplierService


@strawberry.type
class Supplier:
    factory: FactoryType
    buyer_ref: str | None
    buyer_id: strawberry.Private[object]

    @classmethod
    def from_row(cls, row: tuple[SupplierLink, Factory]) -> Supplier:
        link, factory = row
        return cls(
            factory=FactoryType.from_model(factory),
            buyer_ref=link.buyer_ref,
            buyer_id=link.buyer_org_id,
        )

    @strawberry.field(description="The consent between this buyer and the factory, if any.")
    async def consent(self, info: Info) -> ConsentType | None:
        key = (self.buyer_id, self.factory.ref.id)
        found = await info.context.loaders.consent.load(key)  # type: ignore[arg-type]
        return ConsentType.from_model(found) if found else None


@strawberry.input
class SupplierFilter:
    country: str | None = None
    consent_status: ConsentStatus | None = None


@strawberry.type
class SupplierQuery:
    @strawberry.field(description="BUYER: its suppliers, in the order they joined the hub.")
    async def suppliers(
        self,
        info: Info,
        filter: SupplierFilter | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> Connection[Supplier]:
        f = filter or SupplierFilter()
        ctx = info.context
        async with ctx.db.session() as session:
            page = await SupplierService(session, ctx.authz).page(
                country=f.country,
                consent_status=f.consent_status,
                first=50 if first is None else first,
                after=after,
                page_max=ctx.settings.page_max,
            )
        return Connection[Supplier].from_page(page, Supplier.from_row)
