"""Per-request DataLoaders: one SQL statement per level of a query, never one per row.

Every loader reads through the request's session (hub.graphql.context.RequestDatabase), so a
request sees one transaction's data. Loaders load; they do not decide access.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Hashable, Sequence
from contextlib import AbstractAsyncContextManager
from functools import cached_property
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
    """Each loader is built on first use: a request uses two or three of them, and building all
    eleven was 7 % of the CPU of a small request (py-spy, bench/RESULTS.md)."""

    def __init__(self, scope: SessionScope) -> None:
        self.scope = scope

    @cached_property
    def organization(self) -> DataLoader[uuid.UUID, Organization | None]:
        return mapping_loader(self.scope, _orgs)

    @cached_property
    def factory(self) -> DataLoader[uuid.UUID, Factory | None]:
        return mapping_loader(self.scope, _factories)

    @cached_property
    def latest_assessment(self) -> DataLoader[uuid.UUID, Assessment | None]:
        return mapping_loader(
            self.scope, lambda s, ids: AssessmentRepository(s).latest_published(ids)
        )

    @cached_property
    def assessment(self) -> DataLoader[uuid.UUID, Assessment | None]:
        return mapping_loader(self.scope, lambda s, ids: AssessmentRepository(s).by_ids(ids))

    @cached_property
    def summary(self) -> DataLoader[uuid.UUID, list[tuple[Cluster, int, int]]]:
        return mapping_loader(
            self.scope, lambda s, ids: AssessmentRepository(s).summaries(ids), list
        )

    @cached_property
    def findings(self) -> DataLoader[uuid.UUID, list[FindingRow]]:
        return mapping_loader(
            self.scope, lambda s, ids: AssessmentRepository(s).findings(ids), list
        )

    @cached_property
    def actions(self) -> DataLoader[uuid.UUID, list[ImprovementAction]]:
        return mapping_loader(self.scope, lambda s, ids: AssessmentRepository(s).actions(ids), list)

    @cached_property
    def shared_with(self) -> DataLoader[uuid.UUID, int]:
        return mapping_loader(
            self.scope, lambda s, ids: ConsentRepository(s).in_force_counts(ids), int
        )

    @cached_property
    def consent(self) -> DataLoader[tuple[uuid.UUID, uuid.UUID], Consent | None]:
        """Key: (buyer id, factory id)."""
        return mapping_loader(self.scope, _consents_of_buyer)

    @cached_property
    def assessment_request(
        self,
    ) -> DataLoader[tuple[uuid.UUID, uuid.UUID], tuple[AssessmentRequest, int, bool] | None]:
        """Key: (buyer id, factory id) -> (the buyer's latest request there, buyers pooled)."""
        return mapping_loader(self.scope, _requests_of_buyer)
