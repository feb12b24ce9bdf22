"""`hub factories import`: a factory directory added with the same deduplication as uploads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from hub.config import Settings
from hub.directory.models import Factory
from hub.matching.records import SupplierRecord
from hub.matching.score import score
from hub.matching.service import MatchingService, factory_side


@dataclass
class DirectoryImport:
    created: int = 0
    existing: int = 0
    review: list[tuple[str, str]] = field(default_factory=list)  # (name, why)


class DirectoryImporter:
    """`hub factories import`: add factories to the directory, deduplicating as uploads do.
    A record that matches is skipped; one in the grey zone is reported for a person to decide,
    not created."""

    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.matching = MatchingService(session, settings)

    async def add(self, records: Sequence[SupplierRecord], outcome: DirectoryImport) -> None:
        pool = await self.matching.candidate_pool(list(records), set())
        made: list[Factory] = []
        for r, candidates in zip(records, pool, strict=True):
            side = r.side()
            ranked = sorted(
                (score(side, factory_side(f)) for f in [*candidates, *made]),
                key=lambda s: -s.total,
            )
            best = ranked[0] if ranked else None
            if best is not None and (best.identifier or best.total >= self.matching.high):
                outcome.existing += 1
            elif best is not None and best.total >= self.matching.low:
                outcome.review.append((r.name, f"close to an existing factory ({best.total:.2f})"))
            else:
                made.append(await self.matching.create_factory(r))
                outcome.created += 1
