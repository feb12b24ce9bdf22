"""Who may read what of the ledger: auditors and admins everything; a factory or a buyer the
proofs and receipts of events that concern it. Anything else is NOT_FOUND."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from hub.authz.service import RequestAuthz
from hub.db.paging import check_first
from hub.directory.models import Role
from hub.directory.repository import DirectoryRepository
from hub.errors import BadUserInput, Forbidden, NotFound
from hub.ledger.models import ConsentLogEntry
from hub.ledger.service import LedgerService, Proof


class LedgerReader:
    def __init__(self, session: AsyncSession, authz: RequestAuthz) -> None:
        self.session = session
        self.authz = authz
        self.ledger = LedgerService(session)

    def _auditing(self) -> bool:
        return self.authz.may("read", "ledger")

    async def page(
        self,
        after: int,
        first: int,
        factory_id: uuid.UUID | None,
        buyer_id: uuid.UUID | None,
        page_max: int,
    ) -> tuple[Sequence[tuple[ConsentLogEntry, str | None]], int | None, int]:
        if not self._auditing():
            raise Forbidden("the consent log is for auditors and admins")
        check_first(first, page_max)
        if after < 0:
            raise BadUserInput("after must be 0 or more", argument="after")
        rows = await self.ledger.repo.page(
            after=after, first=first + 1, factory_id=factory_id, buyer_id=buyer_id
        )
        size = await self.ledger.repo.head() + 1
        more = len(rows) > first
        rows = rows[:first]
        return rows, (rows[-1][0].seq + 1 if more else None), size

    async def _concerns_caller(self, entry: ConsentLogEntry) -> bool:
        if self._auditing():
            return True
        principal = self.authz.principal
        if principal.role is Role.BUYER:
            return entry.buyer_org_id == principal.org_id
        if principal.role is Role.FACTORY:
            own = await DirectoryRepository(self.session).factory_claimed_by(principal.org_id)
            return own is not None and entry.factory_id == own.id
        return False

    async def inclusion_proof(self, seq: int, size: int) -> tuple[ConsentLogEntry, Proof]:
        entry, proof = await self.ledger.inclusion_proof(seq, size)
        if not await self._concerns_caller(entry):
            raise NotFound(f"no ledger entry {seq}")
        return entry, proof

    async def receipt(self, seq: int) -> str:
        entry = await self.ledger.repo.at(seq)
        if entry is None or not await self._concerns_caller(entry):
            raise NotFound(f"no ledger entry {seq}")
        return await self.ledger.receipt(seq)
