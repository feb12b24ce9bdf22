"""Per-request DataLoaders: one SQL statement per level of a query, never one per row.

Every loader reads through the request's session (hub.graphql.context.RequestDatabase), so a
request sees one transaction's data. Loaders load; they do not decide access.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Hashable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from hub.assessments.models import Assessment, AssessmentRequest, Cluster, ImprovementAction
from hub.assessments.repository import AssessmentRepository, FindingRow
from hub.consent.models import Consent
from hub.consent.repository import ConsentRepository
from hub.directory.models import Factory, Organization
from hub.directory.repository import DirectoryRepository

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
SessionScope = Callable[[], AbstractAsyncContextManager[AsyncSession]]


def mapping_loader(
    scope: SessionScope,
    fetch: Callable[[AsyncSession, list[K]], Awaitable[dict[K, V]]],
    default: Callable[[], Any] = lambda: None,
) -> DataLoader[K, Any]:
    async def load(keys: Sequence[K]) -> list[Any]:
        async with scope() as session:
            found = await fetch(session, list(keys))
        return [found.get(k, default()) for k in keys]

    return DataLoader(load_fn=load)


async def _orgs(s: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Organization]:
    return {o.id: o for o in await DirectoryRepository(s).organizations_by_ids(ids)}


async def _factories(s: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Factory]:
    return {f.id: f for f in await DirectoryRepository(s).factories_by_ids(ids)}


async def _consents_of_buyer(
    s: AsyncSession, keys: list[tuple[uuid.UUID, uuid.UUID]]
) -> dict[tuple[uuid.UUID, uuid.UUID], Consent]:
    found: dict[tuple[uuid.UUID, uuid.UUID], Consent] = {}
    for buyer in {b for b, _ in keys}:
        factories = [f for b, f in keys if b == buyer]
        for c in await ConsentRepository(s).by_pairs(buyer, factories):
            found[(buyer, c.factory_id)] = c
    return found


async def _requests_of_buyer(
    s: AsyncSession, keys: list[tuple[uuid.UUID, uuid.UUID]]
) -> dict[tuple[uuid.UUID, uuid.UUID], tuple[AssessmentRequest, int, bool]]:
    found: dict[tuple[uuid.UUID, uuid.UUID], tuple[AssessmentRequest, int, bool]] = {}
    for buyer in {b for b, _ in keys}:
        factories = [f for b, f in keys if b == buyer]
        for factory_id, pair in (
            await AssessmentRepository(s).requests_for_buyer(buyer, factories)
        ).items():
            found[(buyer, factory_id)] = pair
    return found


class Loaders:
    def __init__(self, scope: SessionScope) -> None:
        self.organization: DataLoader[uuid.UUID, Organization | None] = mapping_loader(scope, _orgs)
        self.factory: DataLoader[uuid.UUID, Factory | None] = mapping_loader(scope, _factories)
        self.latest_assessment: DataLoader[uuid.UUID, Assessment | None] = mapping_loader(
            scope, lambda s, ids: AssessmentRepository(s).latest_published(ids)
        )
        self.assessment: DataLoader[uuid.UUID, Assessment | None] = mapping_loader(
            scope, lambda s, ids: AssessmentRepository(s).by_ids(ids)
        )
        self.summary: DataLoader[uuid.UUID, list[tuple[Cluster, int, int]]] = mapping_loader(
            scope, lambda s, ids: AssessmentRepository(s).summaries(ids), list
        )
        self.findings: DataLoader[uuid.UUID, list[FindingRow]] = mapping_loader(
            scope, lambda s, ids: AssessmentRepository(s).findings(ids), list
        )
        self.actions: DataLoader[uuid.UUID, list[ImprovementAction]] = mapping_loader(
            scope, lambda s, ids: AssessmentRepository(s).actions(ids), list
        )
        self.shared_with: DataLoader[uuid.UUID, int] = mapping_loader(
            scope, lambda s, ids: ConsentRepository(s).in_force_counts(ids), int
        )
        # key: (buyer id, factory id)
        self.consent: DataLoader[tuple[uuid.UUID, uuid.UUID], Consent | None] = mapping_loader(
            scope, _consents_of_buyer
        )
        # key: (buyer id, factory id) -> (the buyer's latest request there, buyers pooled)
        self.assessment_request: DataLoader[
            tuple[uuid.UUID, uuid.UUID], tuple[AssessmentRequest, int, bool] | None
        ] = mapping_loader(scope, _requests_of_buyer)
