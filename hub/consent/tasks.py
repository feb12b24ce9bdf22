"""Background work of the consent domain: the expiry sweeper.

Enforcement already treats a grant past its expiry as absent from that second (the matcher's
in_force); the sweeper writes the EXPIRED event that makes it so in the ledger. Every process
runs one: FOR UPDATE SKIP LOCKED and the status check keep them from expiring a grant twice.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.principal import Principal
from hub.authz.service import Authorizer, RequestAuthz
from hub.consent.service import ConsentService
from hub.directory.models import Role

log = logging.getLogger(__name__)

# the actor recorded on events the hub itself writes
SYSTEM_ACTOR = uuid.UUID(int=0)
SYSTEM = Principal(SYSTEM_ACTOR, Role.ADMIN, "hub", "system", 0)


async def expire_once(sessions: async_sessionmaker[AsyncSession], authorizer: Authorizer) -> int:
    async with sessions() as session, session.begin():
        service = ConsentService(session, RequestAuthz(authorizer, SYSTEM))
        return await service.expire_due(SYSTEM_ACTOR)


async def run_sweeper(
    sessions: async_sessionmaker[AsyncSession], authorizer: Authorizer, interval: float
) -> None:
    while True:
        try:
            expired = await expire_once(sessions, authorizer)
            if expired:
                log.info("expired %d grant(s)", expired)
        except Exception:
            log.exception("expiry sweep failed; retrying in %.0fs", interval)
        await asyncio.sleep(interval)
