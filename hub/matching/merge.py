"""Merging two records of one factory: links, assessments, requests, decisions and consents
follow the survivor; the merged id keeps resolving to it (hub.directory.service.find_factory).
Where consent is affected the move is written to the ledger (revoke there, grant here)."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.authz.service import RequestAuthz
from hub.consent.service import ConsentService
from hub.directory.models import Factory
from hub.directory.repository import DirectoryRepository
from hub.errors import BadUserInput, Conflict, Forbidden, NotFound
from hub.events.outbox import emit
from hub.events.types import FACTORY_MERGED
from hub.matching.repository import SupplierRepository


class FactoryMerger:
    def __init__(self, session: AsyncSession, authz: RequestAuthz) -> None:
        self.session = session
        self.authz = authz
        self.directory = DirectoryRepository(session)
        self.suppliers = SupplierRepository(session)

    async def merge(self, survivor_id: uuid.UUID, merged_id: uuid.UUID) -> Factory:
        if not self.authz.may("merge", "factory"):
            raise Forbidden("only admins merge factory records")
        if survivor_id == merged_id:
            raise BadUserInput("a factory cannot be merged into itself")
        survivor = await self.directory.factory(survivor_id)
        merged = await self.directory.factory(merged_id)
        if survivor is None:
            raise NotFound(f"no factory {survivor_id}", argument="survivorId")
        if merged is None:
            raise NotFound(f"no factory {merged_id}", argument="mergedId")
        if merged.merged_into_id is not None or survivor.merged_into_id is not None:
            raise Conflict("one of these records was merged already")
        if merged.country != survivor.country:
            raise BadUserInput("records in two countries are two factories")
        owner = merged.claimed_by_org_id or survivor.claimed_by_org_id
        linked = await self.suppliers.buyers_of([merged.id, survivor.id])
        await self._move_claim(merged, survivor)
        consents = ConsentService(self.session, self.authz)
        for consent in await consents.of_factory(merged.id):
            await consents.carry_over(consent, merged, survivor)
        try:
            async with self.session.begin_nested():
                await self.suppliers.move_factory(merged.id, survivor.id)
        except IntegrityError:
            raise Conflict(
                "both records have an assessment for the same cycle, or both an open request; "
                "settle those before merging"
            ) from None
        for field in ("os_id", "registration_number", "address", "sector", "worker_count"):
            if getattr(survivor, field) is None and getattr(merged, field) is not None:
                value = getattr(merged, field)
                if field == "os_id":
                    merged.os_id = None  # unique: free it before the survivor takes it
                    await self.session.flush()
                setattr(survivor, field, value)
        merged.merged_into_id = survivor.id
        await self.session.flush()
        # directory facts, not reports: every buyer that listed either record hears of it
        await emit(
            self.session,
            FACTORY_MERGED,
            factory_id=survivor.id,
            parties=(owner, *linked),
            data={"factoryId": str(survivor.id), "mergedId": str(merged.id)},
        )
        return survivor

    async def _move_claim(self, merged: Factory, survivor: Factory) -> None:
        owner = merged.claimed_by_org_id
        if owner is None:
            return
        if survivor.claimed_by_org_id not in (None, owner):
            raise Conflict("both records are claimed, by different organisations")
        merged.claimed_by_org_id = None
        await self.session.flush()
        survivor.claimed_by_org_id = owner
        await self.session.flush()
