"""All SQL of assessments and the catalogue."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.assessments.catalogue import CatalogueQuestion
from hub.assessments.models import (
    Assessment,
    AssessmentAnswer,
    AssessmentClusterSummary,
    AssessmentRequest,
    AssessmentRequestBuyer,
    AssessmentStatus,
    Cluster,
    ImprovementAction,
    Question,
    QuestionLegalReference,
    RequestStatus,
)
from hub.db.filters import any_of
from hub.db.paging import Page, keyset_page
from hub.directory.models import Factory

CLUSTER_ORDER = {c: i for i, c in enumerate(Cluster)}


@dataclass(frozen=True, slots=True)
class FindingRow:
    question_code: str
    cluster: Cluster
    question: str
    compliant: bool
    legal_reference: str | None
    comment: str | None


class AssessmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def sync_catalogue(self, questions: Sequence[CatalogueQuestion]) -> None:
        """Upsert the shipped catalogue. Questions are never deleted: answers refer to them."""
        rows = [
            {
                "code": q.code,
                "cluster": q.cluster.name,
                "area": q.area,
                "text": q.text,
                "country": q.country,
                "position": q.position,
            }
            for q in questions
        ]
        upsert = insert(Question).values(rows)
        await self.session.execute(
            upsert.on_conflict_do_update(
                index_elements=[Question.code],
                set_={
                    c: upsert.excluded[c]
                    for c in ("cluster", "area", "text", "country", "position")
                },
            )
        )
        await self.session.execute(
            delete(QuestionLegalReference).where(
                QuestionLegalReference.question_code.in_([q.code for q in questions])
            )
        )
        refs = [
            {"question_code": q.code, "country": country, "reference": ref}
            for q in questions
            for country, ref in q.references.items()
        ]
        if refs:
            await self.session.execute(insert(QuestionLegalReference).values(refs))

    async def questions(
        self, *, country: str | None, cluster: Cluster | None
    ) -> list[tuple[Question, str | None]]:
        """General questions plus, with a country, that country's own, each with the legal
        reference for that country (none without a country, except a country question's own)."""
        ref_country = QuestionLegalReference.country == (country if country else Question.country)
        query = (
            select(Question, QuestionLegalReference.reference)
            .outerjoin(
                QuestionLegalReference,
                (QuestionLegalReference.question_code == Question.code) & ref_country,
            )
            .order_by(Question.position)
        )
        if country:
            query = query.where(or_(Question.country.is_(None), Question.country == country))
        if cluster:
            query = query.where(Question.cluster == cluster)
        result = await self.session.execute(query)
        return [(row[0], row[1]) for row in result]

    async def question_codes(self) -> dict[str, str | None]:
        """Every question code with its country (None for general questions)."""
        result = await self.session.execute(select(Question.code, Question.country))
        return {code: country for code, country in result}

    async def current_version(self, factory_id: uuid.UUID, cycle: str) -> Assessment | None:
        query = (
            select(Assessment)
            .where(Assessment.factory_id == factory_id, Assessment.cycle == cycle)
            .order_by(Assessment.version.desc())
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def get(self, assessment_id: uuid.UUID) -> Assessment | None:
        return await self.session.get(Assessment, assessment_id)

    async def add_assessment(
        self,
        assessment: Assessment,
        answers: Sequence[AssessmentAnswer],
        actions: Sequence[ImprovementAction],
    ) -> None:
        self.session.add(assessment)
        await self.session.flush()
        for answer in answers:
            answer.assessment_id = assessment.id
        for action in actions:
            action.assessment_id = assessment.id
        self.session.add_all([*answers, *actions])
        await self.session.flush()
        await self.store_summaries([assessment.id])

    async def action(self, action_id: uuid.UUID) -> ImprovementAction | None:
        return await self.session.get(ImprovementAction, action_id)

    # --- reads for the gated fields (one statement per batch of keys) ---------------------

    @staticmethod
    def _newest_first() -> tuple[Any, ...]:
        return (Assessment.assessed_at.desc(), Assessment.version.desc(), Assessment.id.desc())

    async def latest_published(
        self, factory_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Assessment]:
        query = (
            select(Assessment)
            .where(
                any_of(Assessment.factory_id, factory_ids),
                Assessment.status == AssessmentStatus.PUBLISHED,
            )
            .order_by(Assessment.factory_id, *self._newest_first())
            .ext(distinct_on(Assessment.factory_id))
        )
        return {a.factory_id: a for a in (await self.session.execute(query)).scalars()}

    async def by_ids(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Assessment]:
        query = select(Assessment).where(any_of(Assessment.id, ids))
        return {a.id: a for a in (await self.session.execute(query)).scalars()}

    async def page_published(
        self, factory_id: uuid.UUID, first: int, after: str | None
    ) -> Page[Assessment]:
        query: Select[Any] = (
            select(Assessment)
            .where(
                Assessment.factory_id == factory_id,
                Assessment.status == AssessmentStatus.PUBLISHED,
            )
            .order_by(*self._newest_first())
        )
        return await keyset_page(self.session, query, first, after)

    async def store_summaries(self, assessment_ids: Sequence[uuid.UUID]) -> None:
        """Count each assessment's answers per cluster, once, when the answers are written."""
        noncompliant = func.count().filter(AssessmentAnswer.compliant.is_(False))
        counted = (
            select(AssessmentAnswer.assessment_id, Question.cluster, func.count(), noncompliant)
            .join(Question, Question.code == AssessmentAnswer.question_code)
            .where(any_of(AssessmentAnswer.assessment_id, assessment_ids))
            .group_by(AssessmentAnswer.assessment_id, Question.cluster)
        )
        s = AssessmentClusterSummary
        await self.session.execute(
            insert(s).from_select(
                [s.assessment_id, s.cluster, s.questions, s.noncompliant], counted
            )
        )

    async def summaries(
        self, assessment_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[tuple[Cluster, int, int]]]:
        s = AssessmentClusterSummary
        query = select(s.assessment_id, s.cluster, s.questions, s.noncompliant).where(
            any_of(s.assessment_id, assessment_ids)
        )
        found: dict[uuid.UUID, list[tuple[Cluster, int, int]]] = {}
        for aid, cluster, total, bad in await self.session.execute(query):
            found.setdefault(aid, []).append((cluster, total, bad))
        for rows in found.values():
            rows.sort(key=lambda r: CLUSTER_ORDER[r[0]])
        return found

    async def findings(
        self, assessment_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[FindingRow]]:
        """Answers with their question and the legal reference in the factory's country."""
        query = (
            select(
                AssessmentAnswer.assessment_id,
                AssessmentAnswer.question_code,
                Question.cluster,
                Question.text,
                AssessmentAnswer.compliant,
                QuestionLegalReference.reference,
                AssessmentAnswer.comment,
            )
            .join(Question, Question.code == AssessmentAnswer.question_code)
            .join(Assessment, Assessment.id == AssessmentAnswer.assessment_id)
            .join(Factory, Factory.id == Assessment.factory_id)
            .outerjoin(
                QuestionLegalReference,
                (QuestionLegalReference.question_code == Question.code)
                & (QuestionLegalReference.country == Factory.country),
            )
            .where(any_of(AssessmentAnswer.assessment_id, assessment_ids))
            .order_by(AssessmentAnswer.assessment_id, Question.position)
        )
        found: dict[uuid.UUID, list[FindingRow]] = {}
        for row in await self.session.execute(query):
            found.setdefault(row[0], []).append(FindingRow(*row[1:]))
        return found

    async def actions(
        self, assessment_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[ImprovementAction]]:
        query = (
            select(ImprovementAction)
            .where(any_of(ImprovementAction.assessment_id, assessment_ids))
            .order_by(
                ImprovementAction.assessment_id, ImprovementAction.created_at, ImprovementAction.id
            )
        )
        found: dict[uuid.UUID, list[ImprovementAction]] = {}
        for action in (await self.session.execute(query)).scalars():
            found.setdefault(action.assessment_id, []).append(action)
        return found

    # --- pooled requests ----------------------------------------------------------------------

    async def recent_published(self, factory_id: uuid.UUID, since: dt.date) -> Assessment | None:
        found = await self.latest_published([factory_id])
        latest = found.get(factory_id)
        return latest if latest is not None and latest.assessed_at >= since else None

    async def open_request(self, factory_id: uuid.UUID) -> AssessmentRequest | None:
        query = (
            select(AssessmentRequest)
            .where(
                AssessmentRequest.factory_id == factory_id,
                AssessmentRequest.status == RequestStatus.OPEN,
            )
            .with_for_update()
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def add_request(self, request: AssessmentRequest) -> None:
        self.session.add(request)
        await self.session.flush()

    async def join_request(self, request_id: uuid.UUID, buyer_id: uuid.UUID, reused: bool) -> None:
        await self.session.execute(
            insert(AssessmentRequestBuyer)
            .values(request_id=request_id, buyer_org_id=buyer_id, reused=reused)
            .on_conflict_do_nothing()
        )

    async def pooled(self, request_id: uuid.UUID) -> int:
        query = select(func.count()).where(AssessmentRequestBuyer.request_id == request_id)
        return int((await self.session.execute(query)).scalar_one())

    async def requests_for_buyer(
        self, buyer_id: uuid.UUID, factory_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[AssessmentRequest, int, bool]]:
        """The latest request per factory this buyer is in: pool size, and whether the buyer
        was served by an assessment that already existed."""
        pool = (
            select(AssessmentRequestBuyer.request_id, func.count().label("n"))
            .group_by(AssessmentRequestBuyer.request_id)
            .subquery()
        )
        query = (
            select(AssessmentRequest, pool.c.n, AssessmentRequestBuyer.reused)
            .join(AssessmentRequestBuyer, AssessmentRequestBuyer.request_id == AssessmentRequest.id)
            .join(pool, pool.c.request_id == AssessmentRequest.id)
            .where(
                AssessmentRequestBuyer.buyer_org_id == buyer_id,
                any_of(AssessmentRequest.factory_id, factory_ids),
            )
            .order_by(AssessmentRequest.factory_id, AssessmentRequest.created_at.desc())
            .ext(distinct_on(AssessmentRequest.factory_id))
        )
        rows = await self.session.execute(query)
        return {req.factory_id: (req, int(n), bool(reused)) for req, n, reused in rows}

    async def fulfil_requests(
        self, factory_id: uuid.UUID, assessment_id: uuid.UUID
    ) -> dict[uuid.UUID, list[uuid.UUID]]:
        """Close the factory's open request with this assessment: request id -> pooled buyers."""
        fulfilled = (
            (
                await self.session.execute(
                    update(AssessmentRequest)
                    .where(
                        AssessmentRequest.factory_id == factory_id,
                        AssessmentRequest.status == RequestStatus.OPEN,
                    )
                    .values(
                        status=RequestStatus.FULFILLED.name,
                        assessment_id=assessment_id,
                        fulfilled_at=func.now(),
                    )
                    .returning(AssessmentRequest.id)
                )
            )
            .scalars()
            .all()
        )
        if not fulfilled:
            return {}
        rows = await self.session.execute(
            select(AssessmentRequestBuyer.request_id, AssessmentRequestBuyer.buyer_org_id).where(
                AssessmentRequestBuyer.request_id.in_(fulfilled)
            )
        )
        pooled: dict[uuid.UUID, list[uuid.UUID]] = {r: [] for r in fulfilled}
        for request_id, buyer_id in rows:
            pooled[request_id].append(buyer_id)
        return pooled

    async def sharing_counts(self, valid_since: dt.date) -> dict[str, int]:
        row = (
            await self.session.execute(
                text(
                    """
                    SELECT
                      (SELECT count(*) FROM factories WHERE merged_into_id IS NULL) AS factories,
                      (SELECT count(*) FROM assessments WHERE status = 'PUBLISHED') AS assessments,
                      (SELECT count(*) FROM supplier_links) AS links,
                      (SELECT count(*) FROM supplier_links l WHERE EXISTS (
                          SELECT 1 FROM assessments a WHERE a.factory_id = l.factory_id
                          AND a.status = 'PUBLISHED' AND a.assessed_at >= :since)) AS served,
                      (SELECT count(*) FROM assessment_request_buyers) AS needed,
                      (SELECT count(DISTINCT b.request_id) FROM assessment_request_buyers b
                          WHERE NOT b.reused) AS commissioned
                    """
                ),
                {"since": valid_since},
            )
        ).one()
        return dict(row._mapping)
