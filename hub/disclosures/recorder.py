"""Disclosures of one request: collected while resolving, validated and written at commit.

A buyer receives protected data only if, at commit, the consent rows it relied on are still
in force and in scope under FOR SHARE: a revocation (FOR UPDATE on the same row) either
committed before, and this request fails without disclosing, or waits until this request has
committed its disclosure rows. No disclosure is ever recorded after the revocation it relied on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.principal import Principal
from hub.directory.models import Role
from hub.disclosures.repository import DisclosureRepository
from hub.errors import Forbidden


@dataclass(frozen=True, slots=True)
class Disclosed:
    factory_id: uuid.UUID
    assessment_id: uuid.UUID
    scope: str


@dataclass
class DisclosureRecorder:
    buyer_id: uuid.UUID | None  # None: the caller is no buyer, nothing to record
    request_id: str
    items: set[Disclosed] = field(default_factory=set)

    @classmethod
    def of(cls, principal: Principal, request_id: str) -> DisclosureRecorder:
        """Only what buyers receive is recorded: a factory reads its own reports, an assessor
        the assessments it wrote, an auditor no report content."""
        return cls(principal.org_id if principal.role is Role.BUYER else None, request_id)

    def add(self, factory_id: uuid.UUID, assessment_id: uuid.UUID, scope: str) -> None:
        if self.buyer_id is not None:
            self.items.add(Disclosed(factory_id, assessment_id, scope))

    async def commit_check(self, session: AsyncSession) -> int:
        """Lock, re-check and write the disclosure rows; Forbidden if any consent moved."""
        if not self.items or self.buyer_id is None:
            return 0
        items = self.ordered()
        if not await DisclosureRepository(session).disclose(self.request_id, self.buyer_id, items):
            raise Forbidden(
                "a consent this answer relied on changed while it was prepared; "
                "nothing was disclosed, ask again"
            )
        return len(items)

    def ordered(self) -> list[Disclosed]:
        """Sorted: the rows' order (and so the log's) is the same for the same answer."""
        return sorted(self.items, key=lambda d: (str(d.factory_id), str(d.assessment_id), d.scope))
