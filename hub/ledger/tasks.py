"""The checkpoint integrator: every few seconds, digest new disclosure rows into the ledger,
extend the Merkle tree and sign a checkpoint if the log grew. Every process runs one; a
try-lock lets one of them work at a time."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.ledger.models import Checkpoint
from hub.ledger.service import LedgerService
from hub.ledger.signing import LedgerKey

log = logging.getLogger(__name__)


async def integrate_once(
    sessions: async_sessionmaker[AsyncSession], key: LedgerKey, origin: str
) -> Checkpoint | None:
    async with sessions() as session, session.begin():
        await LedgerService(session).digest_disclosures()
    async with sessions() as session, session.begin():
        return await LedgerService(session).checkpoint(key, origin)


async def run_integrator(
    sessions: async_sessionmaker[AsyncSession], key: LedgerKey, origin: str, interval: float
) -> None:
    while True:
        try:
            await integrate_once(sessions, key, origin)
        except Exception:
            log.exception("checkpoint integration failed; retrying in %.0fs", interval)
        await asyncio.sleep(interval)
