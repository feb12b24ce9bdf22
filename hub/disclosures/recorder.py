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

from hub.consent.repository import ConsentRepository
from hub.consent.service import is_in_force
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

    def add(self, factory_id: uuid.UUID, assessment_id: uuid.UUID, scope: str) -> None:
        if self.buyer_id is not None:
            self.items.add(Disclosed(factory_id, assessment_id, scope))

    async def commit_check(self, session: AsyncSession) -> int:
        """Lock, re-check and write the disclosure rows; Forbidden if any consent moved."""
        if not self.items or self.buyer_id is None:
            return 0
        buyer = self.buyer_id
        factories = sorted({d.factory_id for d in self.items})
        locked = await ConsentRepository(session).lock_for_share(buyer, factories)
        rows = {c.factory_id: c for c in locked}
        log = DisclosureRepository(session)
        # the database's clock, read after the locks: comparable with ledger event times
        now = await log.hold_for_writing()
        cited: list[tuple[Disclosed, int]] = []
        for item in sorted(
            self.items, key=lambda d: (str(d.factory_id), str(d.assessment_id), d.scope)
        ):
            consent = rows.get(item.factory_id)
            if consent is None or not is_in_force(consent, now) or item.scope not in consent.scopes:
                raise Forbidden(
                    "a consent this answer relied on changed while it was prepared; "
                    "nothing was disclosed, ask again"
                )
            cited.append((item, consent.ledger_seq))
        await log.add_batch(now, self.request_id, buyer, cited)
        return len(cited)
