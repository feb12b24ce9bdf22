"""All SQL of assessments and the catalogue."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.assessments.catalogue import CatalogueQuestion
from hub.assessments.models import (
    Assessment,
    AssessmentAnswer,
    Cluster,
    ImprovementAction,
    Question,
    QuestionLegalReference,
)


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

    async def action(self, action_id: uuid.UUID) -> ImprovementAction | None:
        return await self.session.get(ImprovementAction, action_id)
