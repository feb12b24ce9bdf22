"""GraphQL types and thin resolvers of a buyer's suppliers."""

from __future__ import annotations

import strawberry

from hub.assessments.graphql import AssessmentRequestType
from hub.consent.graphql import ConsentType
from hub.consent.models import ConsentStatus
from hub.directory.graphql import FactoryType
from hub.directory.models import Factory
from hub.errors import Forbidden
from hub.graphql.context import Info
from hub.graphql.ids import parse_id
from hub.graphql.pagination import Connection
from hub.matching.merge import FactoryMerger
from hub.matching.models import MatchOutcome, SupplierLink
from hub.matching.records import SupplierRecord
from hub.matching.service import MatchingService, RecordResult
from hub.matching.suppliers import SupplierService


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

    @strawberry.field(description="Your latest assessment request for this factory, if any.")
    async def assessment_request(self, info: Info) -> AssessmentRequestType | None:
        key = (self.buyer_id, self.factory.ref.id)
        found = await info.context.loaders.assessment_request.load(key)  # type: ignore[arg-type]
        if found is None:
            return None
        request, pooled, reused = found
        return AssessmentRequestType.from_model(request, pooled, reused)

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


strawberry.enum(MatchOutcome, name="MatchOutcome")


@strawberry.input
class SupplierRecordInput:
    buyer_ref: str
    name: str
    country: str
    address: str | None = None
    os_id: str | None = None
    registration_number: str | None = None


@strawberry.type
class MatchComponents:
    name: float | None = strawberry.field(description="Name similarity, 0 to 1.")
    address: float | None = strawberry.field(description="Address similarity, when both have one.")
    identifier: str | None = strawberry.field(
        description="The identifier that decided, if one did."
    )
    reasons: list[str]
    candidate_scores: list[float] = strawberry.field(description="One per candidate, in order.")
    note: str | None


@strawberry.type
class SupplierRecordResult:
    buyer_ref: str
    outcome: MatchOutcome
    factory: FactoryType | None
    confidence: float
    candidates: list[FactoryType]
    components: MatchComponents

    @classmethod
    def from_result(cls, r: RecordResult) -> SupplierRecordResult:
        s = r.score
        return cls(
            buyer_ref=r.buyer_ref,
            outcome=r.outcome,
            factory=FactoryType.from_model(r.factory) if r.factory else None,
            confidence=r.confidence,
            candidates=[FactoryType.from_model(f) for f, _ in r.candidates],
            components=MatchComponents(
                name=s.name if s else None,
                address=s.address if s else None,
                identifier=s.identifier if s else None,
                reasons=list(s.reasons) if s else [],
                candidate_scores=[c.total for _, c in r.candidates],
                note=r.note,
            ),
        )


@strawberry.type
class SupplierListResult:
    received: int
    matched: int
    created: int
    needs_review: int
    records: list[SupplierRecordResult]
    disappeared: list[str] = strawberry.field(
        description="Your references linked before but missing from this list (kept, not dropped)."
    )


def _require_buyer(info: Info) -> None:
    authz = info.context.authz
    if not authz.may("upload", "supplier", authz.principal.org_id):
        raise Forbidden("supplier lists are a buyer's")


@strawberry.type
class SupplierMutation:
    @strawberry.mutation(description="BUYER: match your supplier list (up to 5,000 records).")
    async def upload_supplier_list(
        self, info: Info, records: list[SupplierRecordInput]
    ) -> SupplierListResult:
        _require_buyer(info)
        ctx = info.context
        raw = [
            SupplierRecord(
                buyer_ref=r.buyer_ref,
                name=r.name,
                country=r.country,
                address=r.address,
                os_id=r.os_id,
                registration_number=r.registration_number,
            )
            for r in records
        ]
        async with ctx.db.session() as session:
            result = await MatchingService(session, ctx.settings).upload(ctx.principal.org_id, raw)
        return SupplierListResult(
            received=len(records),
            matched=result.count(MatchOutcome.MATCHED),
            created=result.count(MatchOutcome.CREATED),
            needs_review=result.count(MatchOutcome.NEEDS_REVIEW),
            records=[SupplierRecordResult.from_result(r) for r in result.records],
            disappeared=result.disappeared,
        )

    @strawberry.mutation(
        description="ADMIN: merge a duplicate factory record into another; links, assessments "
        "and consents follow, and the merged id keeps resolving to the survivor."
    )
    async def merge_factories(
        self, info: Info, survivor_id: strawberry.ID, merged_id: strawberry.ID
    ) -> FactoryType:
        ctx = info.context
        async with ctx.db.session() as session:
            survivor = await FactoryMerger(session, ctx.authz).merge(
                parse_id(survivor_id, "survivorId"), parse_id(merged_id, "mergedId")
            )
        return FactoryType.from_model(survivor)

    @strawberry.mutation(
        description="BUYER: settle a record: this factory (factoryId), or a new one (createNew). "
        "Remembered for every later upload."
    )
    async def resolve_supplier_match(
        self,
        info: Info,
        buyer_ref: str,
        factory_id: strawberry.ID | None = None,
        create_new: bool | None = False,
    ) -> SupplierRecordResult:
        _require_buyer(info)
        ctx = info.context
        async with ctx.db.session() as session:
            result = await MatchingService(session, ctx.settings).resolve(
                ctx.principal.org_id,
                buyer_ref,
                parse_id(factory_id, "factoryId") if factory_id else None,
                bool(create_new),
            )
        return SupplierRecordResult.from_result(result)
