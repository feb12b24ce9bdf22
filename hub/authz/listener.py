"""Keeps the consent projection close to the ledger head between requests.

Every ledger append NOTIFYs at commit; the process's NotificationListener then catches up.
Correctness does not depend on this: every request catches up from the ledger head itself.
This only makes that catch-up usually empty.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.authz.service import Authorizer


class LedgerCatchUp:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], authorizer: Authorizer) -> None:
        self.sessions = sessions
        self.authorizer = authorizer

    async def __call__(self) -> int:
        async with self.sessions() as session:
            return await self.authorizer.catch_up(session)
