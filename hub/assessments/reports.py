"""Gated reads of report content for one request: decide, load, record the disclosure.

Resolvers call these; they never decide access themselves. Content leaves only through here,
and each piece a buyer receives is recorded for the commit-time check (hub.disclosures).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hub.assessments.models import Assessment, AssessmentStatus, Cluster, ImprovementAction
from hub.assessments.repository import FindingRow
from hub.authz.service import RequestAuthz
from hub.disclosures.recorder import DisclosureRecorder
from hub.errors import Forbidden, NotFound

if TYPE_CHECKING:
    from hub.graphql.loaders import Loaders

SUMMARY, FINDINGS, PLAN = "SUMMARY", "FINDINGS", "IMPROVEMENT_PLAN"


@dataclass(frozen=True, slots=True)
class FactoryRef:
    id: uuid.UUID
    owner: uuid.UUID | None  # the FACTORY organisation that claimed it


@dataclass(frozen=True, slots=True)
class VisibleAssessment:
    assessment: Assessment
    factory: FactoryRef
    scopes: frozenset[str]


class Reports:
    def __init__(
        self, authz: RequestAuthz, loaders: Loaders, disclosures: DisclosureRecorder
    ) -> None:
        self.authz = authz
        self.loaders = loaders
        self.disclosures = disclosures

    def access(self, factory: FactoryRef) -> frozenset[str]:
        return self.authz.report_scopes(factory.id, factory.owner)

    def _require(self, scopes: frozenset[str], scope: str) -> None:
        if scope not in scopes:
            raise Forbidden(f"this needs the factory's {scope} consent", scope=scope)

    def _disclose(self, item: VisibleAssessment, scope: str) -> None:
        self.disclosures.add(item.factory.id, item.assessment.id, scope)

    async def latest(self, factory: FactoryRef) -> VisibleAssessment | None:
        scopes = self.access(factory)
        self._require(scopes, SUMMARY)
        assessment = await self.loaders.latest_assessment.load(factory.id)
        if assessment is None:
            return None
        item = VisibleAssessment(assessment, factory, scopes)
        self._disclose(item, SUMMARY)
        return item

    def published(
        self, factory: FactoryRef, assessments: list[Assessment]
    ) -> list[VisibleAssessment]:
        scopes = self.access(factory)
        self._require(scopes, SUMMARY)
        items = [VisibleAssessment(a, factory, scopes) for a in assessments]
        for item in items:
            self._disclose(item, SUMMARY)
        return items

    def require_summary(self, factory: FactoryRef) -> None:
        self._require(self.access(factory), SUMMARY)

    async def by_id(self, assessment_id: uuid.UUID) -> VisibleAssessment:
        """An assessment the caller may see at all, else NOT_FOUND (as if it did not exist)."""
        assessment = await self.loaders.assessment.load(assessment_id)
        if assessment is not None:
            factory = await self.loaders.factory.load(assessment.factory_id)
            if factory is not None:
                ref = FactoryRef(factory.id, factory.claimed_by_org_id)
                scopes = self.authz.report_scopes(ref.id, ref.owner, assessment.assessor_org_id)
                is_author = self.authz.principal.org_id == assessment.assessor_org_id
                if scopes and (assessment.status is AssessmentStatus.PUBLISHED or is_author):
                    item = VisibleAssessment(assessment, ref, scopes)
                    if SUMMARY in scopes:
                        self._disclose(item, SUMMARY)
                    return item
        raise NotFound(f"no assessment {assessment_id}", argument="id")

    async def summary(self, item: VisibleAssessment) -> list[tuple[Cluster, int, int]]:
        self._require(item.scopes, SUMMARY)
        self._disclose(item, SUMMARY)
        rows: list[tuple[Cluster, int, int]] = await self.loaders.summary.load(item.assessment.id)
        return rows

    async def findings(self, item: VisibleAssessment) -> list[FindingRow]:
        self._require(item.scopes, FINDINGS)
        self._disclose(item, FINDINGS)
        rows: list[FindingRow] = await self.loaders.findings.load(item.assessment.id)
        return rows

    async def plan(self, item: VisibleAssessment) -> list[ImprovementAction]:
        self._require(item.scopes, PLAN)
        self._disclose(item, PLAN)
        rows: list[ImprovementAction] = await self.loaders.actions.load(item.assessment.id)
        return rows
