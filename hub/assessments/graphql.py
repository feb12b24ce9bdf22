"""GraphQL types and thin resolvers of assessments, their gated content, and the catalogue."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from hub.assessments import models
from hub.assessments.reports import FactoryRef, VisibleAssessment
from hub.assessments.service import (
    Answer,
    AssessmentRequests,
    AssessmentService,
    CatalogueService,
    NewAssessment,
    PlannedAction,
)
from hub.directory.graphql import load_factory, reports
from hub.directory.models import Role
from hub.errors import BadUserInput, Forbidden, NotFound
from hub.graphql.context import Info
from hub.graphql.ids import parse_id

if TYPE_CHECKING:
    from hub.directory.graphql import FactoryType

strawberry.enum(models.Cluster, name="Cluster")
strawberry.enum(models.AssessmentStatus, name="AssessmentStatus")
strawberry.enum(models.ActionStatus, name="ImprovementActionStatus")


@strawberry.type
class Question:
    code: str
    cluster: models.Cluster
    area: str
    text: str
    legal_reference: str | None
    country: str | None = strawberry.field(description="Set for a country-specific question.")


@strawberry.type
class ClusterSummary:
    cluster: models.Cluster
    questions: int
    noncompliant: int
    compliance_rate: float


@strawberry.type
class Finding:
    question_code: str
    cluster: models.Cluster
    question: str
    compliant: bool
    legal_reference: str | None
    comment: str | None


@strawberry.type(name="ImprovementAction")
class ImprovementActionType:
    id: strawberry.ID
    question_code: str
    action: str
    due_date: dt.date | None
    status: models.ActionStatus

    @classmethod
    def from_model(cls, a: models.ImprovementAction) -> ImprovementActionType:
        return cls(
            id=strawberry.ID(str(a.id)),
            question_code=a.question_code,
            action=a.action,
            due_date=a.due_date,
            status=a.status,
        )


@strawberry.type(name="Assessment")
class AssessmentType:
    id: strawberry.ID
    cycle: str
    assessed_at: dt.date
    published_at: dt.datetime | None
    status: models.AssessmentStatus
    version: int
    content_hash: str
    item: strawberry.Private[VisibleAssessment]

    @classmethod
    def from_item(cls, item: VisibleAssessment) -> AssessmentType:
        a = item.assessment
        return cls(
            id=strawberry.ID(str(a.id)),
            cycle=a.cycle,
            assessed_at=a.assessed_at,
            published_at=a.published_at,
            status=a.status,
            version=a.version,
            content_hash=a.content_hash,
            item=item,
        )

    @strawberry.field
    async def factory(
        self, info: Info
    ) -> Annotated[FactoryType, strawberry.lazy("hub.directory.graphql")]:
        return await load_factory(info, self.item.factory.id, "assessment")

    @strawberry.field(description="Compliance per cluster. Needs SUMMARY.")
    async def summary(self, info: Info) -> list[ClusterSummary]:
        rows = await reports(info).summary(self.item)
        return [
            ClusterSummary(
                cluster=cluster,
                questions=total,
                noncompliant=bad,
                compliance_rate=round((total - bad) / total, 4) if total else 1.0,
            )
            for cluster, total, bad in rows
        ]

    @strawberry.field(description="The answer per compliance point. Needs FINDINGS.")
    async def findings(
        self,
        info: Info,
        cluster: models.Cluster | None = None,
        noncompliant_only: bool | None = False,
    ) -> list[Finding] | None:
        rows = await reports(info).findings(self.item)
        return [
            Finding(
                question_code=r.question_code,
                cluster=r.cluster,
                question=r.question,
                compliant=r.compliant,
                legal_reference=r.legal_reference,
                comment=r.comment,
            )
            for r in rows
            if (cluster is None or r.cluster is cluster) and not (noncompliant_only and r.compliant)
        ]

    @strawberry.field(description="Actions against non-compliance. Needs IMPROVEMENT_PLAN.")
    async def improvement_plan(self, info: Info) -> list[ImprovementActionType] | None:
        return [ImprovementActionType.from_model(a) for a in await reports(info).plan(self.item)]

    @strawberry.field(description="How many buyers this one assessment serves now.")
    async def shared_with(self, info: Info) -> int:
        count: int = await info.context.loaders.shared_with.load(self.item.factory.id)
        return count


@strawberry.input
class AnswerInput:
    question_code: str
    compliant: bool
    comment: str | None = None


@strawberry.input
class ImprovementActionInput:
    question_code: str
    action: str
    due_date: dt.date | None = None


@strawberry.input
class AssessmentInput:
    factory_id: strawberry.ID
    cycle: str
    assessed_at: dt.date
    answers: list[AnswerInput]
    improvement_plan: list[ImprovementActionInput] | None = None


def _new_assessment(data: AssessmentInput) -> NewAssessment:
    try:
        factory_id = parse_id(data.factory_id, "factoryId")
    except NotFound:
        raise BadUserInput(f"unknown factory {data.factory_id}", argument="factoryId") from None
    return NewAssessment(
        factory_id=factory_id,
        cycle=data.cycle.strip(),
        assessed_at=data.assessed_at,
        answers=tuple(Answer(a.question_code, a.compliant, a.comment) for a in data.answers),
        improvement_plan=tuple(
            PlannedAction(p.question_code, p.action, p.due_date)
            for p in data.improvement_plan or []
        ),
    )


def _as_author(info: Info, act: str) -> None:
    """Assessors act on their own organisation's assessments (the service checks which)."""
    authz = info.context.authz
    if not authz.may(act, "assessment", authz.principal.org_id):
        raise Forbidden(f"only assessors may {act} assessments")


@strawberry.type
class AssessmentsQuery:
    @strawberry.field(
        description="The compliance-point catalogue: general questions plus, with a country, "
        "that country's own, each with its legal reference there."
    )
    async def questions(
        self, info: Info, country: str | None = None, cluster: models.Cluster | None = None
    ) -> list[Question]:
        async with info.context.db.session() as session:
            rows = await CatalogueService(session).questions(country=country, cluster=cluster)
        return [
            Question(
                code=q.code,
                cluster=q.cluster,
                area=q.area,
                text=q.text,
                legal_reference=ref,
                country=q.country,
            )
            for q, ref in rows
        ]

    @strawberry.field(description="An assessment the viewer may see (else NOT_FOUND).")
    async def assessment(self, info: Info, id: strawberry.ID) -> AssessmentType | None:
        item = await reports(info).by_id(parse_id(id, "id"))
        return AssessmentType.from_item(item)


@strawberry.type
class AssessmentsMutation:
    @strawberry.mutation(description="ASSESSOR: a draft for one factory and cycle.")
    async def submit_assessment(self, info: Info, input: AssessmentInput) -> AssessmentType:
        _as_author(info, "submit")
        org = info.context.principal.org_id
        async with info.context.db.session() as session:
            assessment = await AssessmentService(session).submit(org, _new_assessment(input))
        return await _authored(info, assessment)

    @strawberry.mutation(description="ASSESSOR: make a draft visible under consent.")
    async def publish_assessment(self, info: Info, id: strawberry.ID) -> AssessmentType:
        _as_author(info, "publish")
        org = info.context.principal.org_id
        async with info.context.db.session() as session:
            assessment = await AssessmentService(session).publish(org, parse_id(id, "id"))
        return await _authored(info, assessment)

    @strawberry.mutation(description="ASSESSOR: version n+1 of a published assessment, as a draft.")
    async def amend_assessment(
        self, info: Info, id: strawberry.ID, input: AssessmentInput
    ) -> AssessmentType:
        _as_author(info, "amend")
        org = info.context.principal.org_id
        async with info.context.db.session() as session:
            assessment = await AssessmentService(session).amend(
                org, parse_id(id, "id"), _new_assessment(input)
            )
        return await _authored(info, assessment)

    @strawberry.mutation(description="FACTORY: the status of one of its improvement actions.")
    async def update_improvement_action(
        self, info: Info, id: strawberry.ID, status: models.ActionStatus
    ) -> ImprovementActionType:
        ctx = info.context
        if ctx.principal.role is not Role.FACTORY or not ctx.authz.may(
            "update", "improvement_action", ctx.principal.org_id
        ):
            raise Forbidden("only the factory updates its improvement actions")
        async with ctx.db.session() as session:
            action = await AssessmentService(session).update_action(
                ctx.principal.org_id, parse_id(id, "id"), status
            )
        return ImprovementActionType.from_model(action)


async def _authored(info: Info, assessment: models.Assessment) -> AssessmentType:
    factory = await info.context.loaders.factory.load(assessment.factory_id)
    owner = factory.claimed_by_org_id if factory else None
    ref = FactoryRef(assessment.factory_id, owner)
    scopes = info.context.authz.report_scopes(ref.id, owner, assessment.assessor_org_id)
    return AssessmentType.from_item(VisibleAssessment(assessment, ref, scopes))


strawberry.enum(models.RequestStatus, name="AssessmentRequestStatus")


@strawberry.type(name="AssessmentRequest")
class AssessmentRequestType:
    id: strawberry.ID
    status: models.RequestStatus
    reused: bool = strawberry.field(description="Served by an assessment that already existed.")
    requested_by: int = strawberry.field(description="Buyers pooled in this request.")
    cost_share: float = strawberry.field(description="Each pooled buyer's share: 1/n.")
    factory_id: strawberry.Private[object]
    assessment_id: strawberry.Private[object]

    @classmethod
    def from_model(
        cls, request: models.AssessmentRequest, pooled: int, reused: bool
    ) -> AssessmentRequestType:
        return cls(
            id=strawberry.ID(str(request.id)),
            status=request.status,
            reused=reused,
            requested_by=pooled,
            cost_share=0.0 if reused else round(1 / max(pooled, 1), 4),
            factory_id=request.factory_id,
            assessment_id=request.assessment_id,
        )

    @strawberry.field
    async def factory(
        self, info: Info
    ) -> Annotated[FactoryType, strawberry.lazy("hub.directory.graphql")]:
        return await load_factory(info, self.factory_id, "request")

    @strawberry.field(description="The assessment, where your consent lets you see it.")
    async def assessment(self, info: Info) -> AssessmentType | None:
        if self.assessment_id is None:
            return None
        try:
            item = await reports(info).by_id(self.assessment_id)  # type: ignore[arg-type]
        except NotFound:
            return None  # it exists; the factory's consent decides whether you see it
        return AssessmentType.from_item(item)


@strawberry.type
class SharingStats:
    factories: int
    assessments: int
    supplier_links: int
    links_served_by_existing_assessments: int
    audits_avoided: int


@strawberry.type
class SharingQuery:
    @strawberry.field(description="How much auditing sharing has saved.")
    async def sharing_stats(self, info: Info) -> SharingStats:
        ctx = info.context
        async with ctx.db.session() as session:
            stats = await AssessmentRequests(
                session, ctx.settings.assessment_validity_days
            ).sharing_stats()
        return SharingStats(**stats)


@strawberry.type
class SharingMutation:
    @strawberry.mutation(
        description="BUYER: an assessment of this factory: a recent one is reused, else you "
        "join (or open) the pooled request."
    )
    async def request_assessment(
        self, info: Info, factory_id: strawberry.ID
    ) -> AssessmentRequestType:
        ctx = info.context
        if not ctx.authz.may("request", "assessment"):
            raise Forbidden("only buyers request assessments")
        async with ctx.db.session() as session:
            pooled = await AssessmentRequests(
                session, ctx.settings.assessment_validity_days
            ).request(ctx.principal.org_id, parse_id(factory_id, "factoryId"))
        return AssessmentRequestType.from_model(pooled.request, pooled.requested_by, pooled.reused)
