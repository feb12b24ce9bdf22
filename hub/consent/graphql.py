"""GraphQL types and thin resolvers of the consent lifecycle."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from hub.consent import models
from hub.consent.service import ConsentService
from hub.directory.graphql import OrganizationType, load_factory, load_organization
from hub.graphql.context import Info
from hub.graphql.ids import parse_id
from hub.graphql.pagination import Connection

if TYPE_CHECKING:
    from hub.directory.graphql import FactoryType

strawberry.enum(models.ConsentScope, name="ConsentScope")
strawberry.enum(models.ConsentStatus, name="ConsentStatus")


@strawberry.type(name="Consent")
class ConsentType:
    id: strawberry.ID
    scopes: list[models.ConsentScope]
    status: models.ConsentStatus
    message: str | None
    reason: str | None
    requested_at: datetime | None
    granted_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    declined_at: datetime | None
    ledger_seq: int = strawberry.field(description="Ledger index of the latest event.")
    factory_id: strawberry.Private[object]
    buyer_id: strawberry.Private[object]

    @classmethod
    def from_model(cls, c: models.Consent) -> ConsentType:
        status = c.status
        if (
            status is models.ConsentStatus.GRANTED
            and c.expires_at
            and c.expires_at <= datetime.now(UTC)
        ):
            status = models.ConsentStatus.EXPIRED  # the sweeper's event may not be written yet
        return cls(
            id=strawberry.ID(str(c.id)),
            scopes=[models.ConsentScope(s) for s in c.scopes],
            status=status,
            message=c.message,
            reason=c.reason,
            requested_at=c.requested_at,
            granted_at=c.granted_at,
            expires_at=c.expires_at,
            revoked_at=c.revoked_at,
            declined_at=c.declined_at,
            ledger_seq=c.ledger_seq,
            factory_id=c.factory_id,
            buyer_id=c.buyer_org_id,
        )

    @strawberry.field
    async def factory(
        self, info: Info
    ) -> Annotated[FactoryType, strawberry.lazy("hub.directory.graphql")]:
        return await load_factory(info, self.factory_id, "consent")

    @strawberry.field
    async def buyer(self, info: Info) -> OrganizationType:
        return await load_organization(info, self.buyer_id, "consent")


@strawberry.input
class ConsentFilter:
    status: models.ConsentStatus | None = None
    factory_id: strawberry.ID | None = None
    buyer_id: strawberry.ID | None = None


@strawberry.type
class ConsentQuery:
    @strawberry.field(
        description="Requests and grants: a factory's own, a buyer's own; auditors see all."
    )
    async def consents(
        self,
        info: Info,
        filter: ConsentFilter | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> Connection[ConsentType]:
        f = filter or ConsentFilter()
        ctx = info.context
        async with ctx.db.session() as session:
            page = await ConsentService(session, ctx.authz).page_visible(
                status=f.status,
                factory_id=parse_id(f.factory_id, "factoryId") if f.factory_id else None,
                buyer_id=parse_id(f.buyer_id, "buyerId") if f.buyer_id else None,
                first=50 if first is None else first,
                after=after,
                page_max=ctx.settings.page_max,
            )
        return Connection[ConsentType].from_page(page, ConsentType.from_model)


@strawberry.type
class ConsentMutation:
    @strawberry.mutation(description="BUYER: ask a factory for access to its reports.")
    async def request_access(
        self,
        info: Info,
        factory_id: strawberry.ID,
        scopes: list[models.ConsentScope],
        message: str | None = None,
    ) -> ConsentType:
        ctx = info.context
        async with ctx.db.session() as session:
            consent = await ConsentService(session, ctx.authz).request_access(
                parse_id(factory_id, "factoryId"), scopes, message
            )
        return ConsentType.from_model(consent)

    @strawberry.mutation(description="FACTORY: grant (or change) a buyer's access.")
    async def grant_consent(
        self,
        info: Info,
        buyer_id: strawberry.ID,
        scopes: list[models.ConsentScope],
        expires_at: datetime | None = None,
    ) -> ConsentType:
        ctx = info.context
        async with ctx.db.session() as session:
            consent = await ConsentService(session, ctx.authz).grant(
                parse_id(buyer_id, "buyerId"), scopes, expires_at
            )
        return ConsentType.from_model(consent)

    @strawberry.mutation(description="FACTORY: decline a pending request.")
    async def decline_request(
        self, info: Info, consent_id: strawberry.ID, reason: str | None = None
    ) -> ConsentType:
        ctx = info.context
        async with ctx.db.session() as session:
            consent = await ConsentService(session, ctx.authz).decline(
                parse_id(consent_id, "consentId"), reason
            )
        return ConsentType.from_model(consent)

    @strawberry.mutation(description="FACTORY: revoke a grant; binds every later request.")
    async def revoke_consent(
        self, info: Info, consent_id: strawberry.ID, reason: str | None = None
    ) -> ConsentType:
        ctx = info.context
        async with ctx.db.session() as session:
            consent = await ConsentService(session, ctx.authz).revoke(
                parse_id(consent_id, "consentId"), reason
            )
        return ConsentType.from_model(consent)
