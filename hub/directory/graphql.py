"""GraphQL types and thin resolvers of the directory: viewer, organisations, factories."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from hub.assessments.reports import FactoryRef, Reports
from hub.assessments.service import AssessmentReader
from hub.consent.models import ConsentScope
from hub.directory import models
from hub.directory.repository import DirectoryRepository
from hub.directory.service import DirectoryService
from hub.errors import NotFound
from hub.graphql.context import Info
from hub.graphql.pagination import Connection

if TYPE_CHECKING:
    from hub.assessments.graphql import AssessmentType


def reports(info: Info) -> Reports:
    ctx = info.context
    return Reports(ctx.authz, ctx.loaders, ctx.disclosures)


# registers the model enum with strawberry (GraphQL name "Role"); fields annotate models.Role
strawberry.enum(models.Role, name="Role")


@strawberry.type(name="Organization")
class OrganizationType:
    id: strawberry.ID
    name: str
    role: models.Role
    country: str | None

    @classmethod
    def from_model(cls, org: models.Organization) -> OrganizationType:
        return cls(id=strawberry.ID(str(org.id)), name=org.name, role=org.role, country=org.country)


@strawberry.type
class Viewer:
    id: strawberry.ID = strawberry.field(description="The calling client (or person).")
    role: models.Role
    org_id: strawberry.Private[str]

    @strawberry.field
    async def organization(self, info: Info) -> OrganizationType:
        org = await info.context.loaders.organization.load(info.context.principal.org_id)
        if org is None:
            # the token names an organisation that no longer exists
            raise NotFound("your organisation no longer exists")
        return OrganizationType.from_model(org)

    @strawberry.field(description="FACTORY: the factory your organisation speaks for.")
    async def factory(self, info: Info) -> FactoryType | None:
        principal = info.context.principal
        if principal.role is not models.Role.FACTORY:
            return None
        async with info.context.db.session() as session:
            found = await DirectoryRepository(session).factory_claimed_by(principal.org_id)
        return FactoryType.from_model(found) if found else None


@strawberry.type(name="Factory")
class FactoryType:
    id: strawberry.ID
    hub_id: str = strawberry.field(description="Stable public identifier, e.g. CH-7K2M9Q4D.")
    name: str
    address: str | None
    country: str = strawberry.field(description="ISO 3166-1 alpha-2.")
    os_id: str | None = strawberry.field(description="Open Supply Hub OS ID.")
    registration_number: str | None
    sector: str | None
    worker_count: int | None
    ref: strawberry.Private[FactoryRef]

    @strawberry.field(description="What of this factory's reports the viewer may read now.")
    def access(self, info: Info) -> list[ConsentScope]:
        scopes = reports(info).access(self.ref)
        return [ConsentScope(s) for s in sorted(scopes)]

    @strawberry.field(description="The newest published assessment. Needs SUMMARY.")
    async def latest_assessment(
        self, info: Info
    ) -> Annotated[AssessmentType, strawberry.lazy("hub.assessments.graphql")] | None:
        from hub.assessments.graphql import AssessmentType

        item = await reports(info).latest(self.ref)
        return AssessmentType.from_item(item) if item else None

    @strawberry.field(description="Published assessments, newest first. Needs SUMMARY.")
    async def assessments(
        self, info: Info, first: int | None = 10, after: str | None = None
    ) -> Connection[Annotated[AssessmentType, strawberry.lazy("hub.assessments.graphql")]]:
        from hub.assessments.graphql import AssessmentType

        gate = reports(info)
        gate.require_summary(self.ref)
        async with info.context.db.session() as session:
            page = await AssessmentReader(session).page_published(
                self.ref.id, 10 if first is None else first, after, info.context.settings.page_max
            )
        items = gate.published(self.ref, [a for _, a in page.edges])
        by_id = {item.assessment.id: item for item in items}
        return Connection[AssessmentType].from_page(
            page, lambda a: AssessmentType.from_item(by_id[a.id])
        )

    @classmethod
    def from_model(cls, f: models.Factory) -> FactoryType:
        return cls(
            id=strawberry.ID(str(f.id)),
            hub_id=f.hub_id,
            name=f.name,
            address=f.address,
            country=f.country,
            os_id=f.os_id,
            registration_number=f.registration_number,
            sector=f.sector,
            worker_count=f.worker_count,
            ref=FactoryRef(f.id, f.claimed_by_org_id),
        )


async def load_factory(info: Info, factory_id: object, of: str) -> FactoryType:
    """The factory another object refers to, through the request's loader."""
    found = await info.context.loaders.factory.load(factory_id)  # type: ignore[arg-type]
    if found is None:
        raise NotFound(f"the factory of this {of} no longer exists")
    return FactoryType.from_model(found)


async def load_organization(info: Info, org_id: object, of: str) -> OrganizationType:
    found = await info.context.loaders.organization.load(org_id)  # type: ignore[arg-type]
    if found is None:
        raise NotFound(f"the organisation of this {of} no longer exists")
    return OrganizationType.from_model(found)


@strawberry.input
class FactoryFilter:
    country: str | None = None
    name_contains: str | None = None


@strawberry.type
class DirectoryQuery:
    @strawberry.field
    def viewer(self, info: Info) -> Viewer:
        principal = info.context.principal
        return Viewer(
            id=strawberry.ID(principal.subject), role=principal.role, org_id=str(principal.org_id)
        )

    @strawberry.field(description="The factory directory, in the order factories joined the hub.")
    async def factories(
        self,
        info: Info,
        filter: FactoryFilter | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> Connection[FactoryType]:
        f = filter or FactoryFilter()
        first = 50 if first is None else first
        async with info.context.db.session() as session:
            page = await DirectoryService(session).page_factories(
                country=f.country,
                name_contains=f.name_contains,
                first=first,
                after=after,
                page_max=info.context.settings.page_max,
            )
        return Connection[FactoryType].from_page(page, FactoryType.from_model)

    @strawberry.field(description="A factory by its id or hub id.")
    async def factory(self, info: Info, id: strawberry.ID) -> FactoryType | None:
        async with info.context.db.session() as session:
            found = await DirectoryService(session).find_factory(str(id))
        return FactoryType.from_model(found)
