"""Per-request DataLoaders: one SQL statement per level of a query, never one per row."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from hub.directory.models import Factory, Organization
from hub.directory.repository import DirectoryRepository

T = TypeVar("T", Organization, Factory)
SessionScope = Callable[[], AbstractAsyncContextManager[AsyncSession]]


def _by_id_loader(
    session_scope: SessionScope,
    fetch: Callable[[DirectoryRepository, Sequence[uuid.UUID]], Awaitable[list[T]]],
) -> DataLoader[uuid.UUID, T | None]:
    async def load(ids: list[uuid.UUID]) -> list[T | None]:
        async with session_scope() as session:
            found = {obj.id: obj for obj in await fetch(DirectoryRepository(session), ids)}
        return [found.get(i) for i in ids]

    return DataLoader(load_fn=load)


class Loaders:
    def __init__(self, session_scope: SessionScope) -> None:
        self.organization = _by_id_loader(
            session_scope, lambda repo, ids: repo.organizations_by_ids(ids)
        )
        self.factory = _by_id_loader(session_scope, lambda repo, ids: repo.factories_by_ids(ids))
