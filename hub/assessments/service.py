"""Assessment use cases: the catalogue, submission (validated) and publication."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import rfc8785
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.assessments.catalogue import load_catalogue
from hub.assessments.models import (
    ActionStatus,
    Assessment,
    AssessmentAnswer,
    AssessmentRequest,
    AssessmentStatus,
    Cluster,
    ImprovementAction,
    Question,
    RequestStatus,
)
from hub.assessments.repository import AssessmentRepository
from hub.db.paging import Page, check_first
from hub.directory.models import Factory
from hub.directory.repository import DirectoryRepository
from hub.directory.service import normalise_country
from hub.errors import BadUserInput, Conflict, NotFound
from hub.events.outbox import emit
from hub.events.types import (
    ASSESSMENT_AMENDED,
    ASSESSMENT_PUBLISHED,
    ASSESSMENT_REQUEST_FULFILLED,
    IMPROVEMENT_ACTION_UPDATED,
)

CYCLE_PATTERN = re.compile(r"^[0-9]{4}-[1-9][0-9]*$")


@dataclass(frozen=True)
class Answer:
    question_code: str
    compliant: bool
    comment: str | None = None


@dataclass(frozen=True)
class PlannedAction:
    question_code: str
    action: str
    due_date: date | None = None


@dataclass(frozen=True)
class NewAssessment:
    factory_id: uuid.UUID
    cycle: str
    assessed_at: date
    answers: tuple[Answer, ...]
    improvement_plan: tuple[PlannedAction, ...] = ()


def content_hash(new: NewAssessment) -> str:
    """SHA-256 over the RFC 8785 canonical JSON of what the assessor submitted."""
    document: dict[str, Any] = {
        "factory": str(new.factory_id),
        "cycle": new.cycle,
        "assessedAt": new.assessed_at.isoformat(),
        "answers": sorted(
            ({"q": a.question_code, "ok": a.compliant, "c": a.comment} for a in new.answers),
            key=lambda a: str(a["q"]),
        ),
        "plan": [
            {
                "q": p.question_code,
                "a": p.action,
                "due": p.due_date.isoformat() if p.due_date else None,
            }
            for p in new.improvement_plan
        ],
    }
    return hashlib.sha256(rfc8785.dumps(document)).hexdigest()


class CatalogueService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = AssessmentRepository(session)

    async def sync(self) -> int:
        questions = load_catalogue()
        await self.repo.sync_catalogue(questions)
        return len(questions)

    async def questions(
        self, *, country: str | None, cluster: Cluster | None
    ) -> list[tuple[Question, str | None]]:
        return await self.repo.questions(
            country=normalise_country(country) if country else None, cluster=cluster
        )


class AssessmentService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = AssessmentRepository(session)
        self.directory = DirectoryRepository(session)

    async def submit(self, assessor_org_id: uuid.UUID, new: NewAssessment) -> Assessment:
        """A DRAFT for (factory, cycle), validated against the catalogue."""
        factory = await self._validate(new)
        if await self.repo.current_version(factory.id, new.cycle) is not None:
            raise Conflict(
                f"factory {factory.hub_id} already has an assessment for {new.cycle}; "
                "amend it instead (amendAssessment)"
            )
        return await self._create(assessor_org_id, new, version=1)

    async def amend(
        self, assessor_org_id: uuid.UUID, assessment_id: uuid.UUID, new: NewAssessment
    ) -> Assessment:
        """Version n+1 of a published assessment, as a DRAFT; version n stays as it was."""
        current = await self._owned(assessor_org_id, assessment_id)
        if new.factory_id != current.factory_id or new.cycle != current.cycle:
            raise BadUserInput("an amendment keeps the factory and cycle of what it amends")
        latest = await self.repo.current_version(current.factory_id, current.cycle)
        assert latest is not None
        if latest.id != current.id:
            raise Conflict(f"version {latest.version} is newer; amend that one")
        if current.status is not AssessmentStatus.PUBLISHED:
            raise Conflict("a draft is edited by submitting it again, not amended")
        await self._validate(new)
        return await self._create(assessor_org_id, new, version=current.version + 1)

    async def _create(
        self, assessor_org_id: uuid.UUID, new: NewAssessment, version: int
    ) -> Assessment:
        assessment = Assessment(
            factory_id=new.factory_id,
            cycle=new.cycle,
            version=version,
            status=AssessmentStatus.DRAFT,
            assessed_at=new.assessed_at,
            content_hash=content_hash(new),
            assessor_org_id=assessor_org_id,
        )
        answers = [
            AssessmentAnswer(
                question_code=a.question_code, compliant=a.compliant, comment=a.comment
            )
            for a in new.answers
        ]
        actions = [
            ImprovementAction(
                question_code=p.question_code,
                action=p.action,
                due_date=p.due_date,
                status=ActionStatus.PENDING,
            )
            for p in new.improvement_plan
        ]
        await self.repo.add_assessment(assessment, answers, actions)
        return assessment

    async def publish(self, assessor_org_id: uuid.UUID, assessment_id: uuid.UUID) -> Assessment:
        assessment = await self._owned(assessor_org_id, assessment_id)
        if assessment.status is AssessmentStatus.DRAFT:
            assessment.status = AssessmentStatus.PUBLISHED
            assessment.published_at = datetime.now(UTC)
            await self.repo.session.flush()
            # every buyer pooled in an open request for this factory is served now
            pooled = await self.repo.fulfil_requests(assessment.factory_id, assessment.id)
            await self._announce(assessment, pooled)
        return assessment

    async def _announce(
        self, assessment: Assessment, pooled: dict[uuid.UUID, list[uuid.UUID]]
    ) -> None:
        """Publication events: buyers hear of them only while they hold SUMMARY consent (the
        existence of a report is itself what SUMMARY shows)."""
        factory = await self.directory.factory(assessment.factory_id)
        owner = factory.claimed_by_org_id if factory else None
        ids = {"assessmentId": str(assessment.id), "factoryId": str(assessment.factory_id)}
        await emit(
            self.repo.session,
            ASSESSMENT_PUBLISHED if assessment.version == 1 else ASSESSMENT_AMENDED,
            factory_id=assessment.factory_id,
            parties=(owner,),
            gated_scope="SUMMARY",
            data={**ids, "version": assessment.version},
        )
        for request_id, buyers in pooled.items():
            await emit(
                self.repo.session,
                ASSESSMENT_REQUEST_FULFILLED,
                factory_id=assessment.factory_id,
                parties=(owner,),
                gated_scope="SUMMARY",
                gated_to=buyers,
                data={**ids, "requestId": str(request_id)},
            )

    async def _owned(self, assessor_org_id: uuid.UUID, assessment_id: uuid.UUID) -> Assessment:
        assessment = await self.repo.get(assessment_id)
        if assessment is None:
            raise NotFound(f"no assessment {assessment_id}", argument="id")
        if assessment.assessor_org_id != assessor_org_id:
            raise BadUserInput(
                f"assessment {assessment_id} was submitted by another assessor organisation",
                argument="id",
            )
        return assessment

    async def _validate(self, new: NewAssessment) -> Factory:
        factory = await self.directory.factory(new.factory_id)
        if factory is None:
            raise BadUserInput(f"unknown factory {new.factory_id}", argument="factoryId")
        if not CYCLE_PATTERN.match(new.cycle):
            raise BadUserInput(f"cycle {new.cycle!r} is not of the form YYYY-N, e.g. 2026-1")
        if new.assessed_at > datetime.now(UTC).date():
            raise BadUserInput(f"assessedAt {new.assessed_at} is in the future")
        await self._check_answers(new, factory.country)
        return factory

    async def update_action(
        self, factory_org_id: uuid.UUID, action_id: uuid.UUID, status: ActionStatus
    ) -> ImprovementAction:
        action = await self.repo.action(action_id)
        if action is not None:
            assessment = await self.repo.get(action.assessment_id)
            factory = await self.directory.factory(assessment.factory_id) if assessment else None
            if factory is not None and factory.claimed_by_org_id == factory_org_id:
                if action.status is not status:
                    action.status = status
                    action.updated_at = datetime.now(UTC)
                    await self.repo.session.flush()
                    await emit(
                        self.repo.session,
                        IMPROVEMENT_ACTION_UPDATED,
                        factory_id=factory.id,
                        parties=(factory.claimed_by_org_id,),
                        gated_scope="IMPROVEMENT_PLAN",
                        data={
                            "actionId": str(action.id),
                            "assessmentId": str(action.assessment_id),
                            "factoryId": str(factory.id),
                            "status": status.value,
                        },
                    )
                return action
        raise NotFound(f"no improvement action {action_id}", argument="id")

    async def _check_answers(self, new: NewAssessment, factory_country: str) -> None:
        if not new.answers:
            raise BadUserInput("an assessment needs at least one answer", argument="answers")
        known = await self.repo.question_codes()
        for code, count in Counter(a.question_code for a in new.answers).items():
            if count > 1:
                raise BadUserInput(f"question {code} is answered {count} times", argument="answers")
        referenced = [a.question_code for a in new.answers]
        referenced += [p.question_code for p in new.improvement_plan]
        for code in referenced:
            if code not in known:
                raise BadUserInput(f"unknown question code {code}", argument="questionCode")
            country = known[code]
            if country is not None and country != factory_country:
                raise BadUserInput(
                    f"question {code} applies in {country}, the factory is in {factory_country}",
                    argument="questionCode",
                )


class AssessmentReader:
    """Pages of published assessments (content is gated by hub.assessments.reports)."""

    def __init__(self, session: AsyncSession) -> None:
        self.repo = AssessmentRepository(session)

    async def page_published(
        self, factory_id: uuid.UUID, first: int, after: str | None, page_max: int
    ) -> Page[Assessment]:
        check_first(first, page_max)
        return await self.repo.page_published(factory_id, first, after)


@dataclass(frozen=True)
class PooledRequest:
    request: AssessmentRequest
    reused: bool
    assessment: Assessment | None
    requested_by: int


class AssessmentRequests:
    """One assessment per factory, shared: reuse a recent one, or pool the buyers who need one."""

    def __init__(self, session: AsyncSession, validity_days: int) -> None:
        self.repo = AssessmentRepository(session)
        self.directory = DirectoryRepository(session)
        self.validity = timedelta(days=validity_days)

    async def request(self, buyer_id: uuid.UUID, factory_id: uuid.UUID) -> PooledRequest:
        factory = await self.directory.factory(factory_id)
        if factory is None or factory.merged_into_id is not None:
            raise NotFound(f"no factory {factory_id}", argument="factoryId")
        since = datetime.now(UTC).date() - self.validity
        recent = await self.repo.recent_published(factory.id, since)
        if recent is not None:
            request = AssessmentRequest(
                factory_id=factory.id,
                status=RequestStatus.FULFILLED,
                assessment_id=recent.id,
                fulfilled_at=datetime.now(UTC),
            )
            await self.repo.add_request(request)
            await self.repo.join_request(request.id, buyer_id, reused=True)
            return PooledRequest(request, True, recent, await self.repo.pooled(request.id))
        request_row = await self.repo.open_request(factory.id)
        if request_row is None:
            request_row = AssessmentRequest(factory_id=factory.id, status=RequestStatus.OPEN)
            try:
                async with self.repo.session.begin_nested():
                    await self.repo.add_request(request_row)
            except IntegrityError:
                raise Conflict(
                    "another buyer opened this request at the same moment; ask again"
                ) from None
        await self.repo.join_request(request_row.id, buyer_id, reused=False)
        return PooledRequest(request_row, False, None, await self.repo.pooled(request_row.id))

    async def sharing_stats(self) -> dict[str, int]:
        counts = await self.repo.sharing_counts(datetime.now(UTC).date() - self.validity)
        return {
            "factories": counts["factories"],
            "assessments": counts["assessments"],
            "supplier_links": counts["links"],
            "links_served_by_existing_assessments": counts["served"],
            # without sharing, every buyer that needed one would have commissioned its own
            "audits_avoided": counts["needed"] - counts["commissioned"],
        }
