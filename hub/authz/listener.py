"""Keeps the consent projection close to the ledger head between requests.

LISTEN on the channel every ledger append NOTIFYs (at commit); on each notification, and after
every (re)connect, catch up. Correctness does not depend on this task: every request catches
up from the ledger head itself. This task only makes that catch-up usually empty.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.authz.service import Authorizer
from hub.ledger.repository import NOTIFY_CHANNEL

log = logging.getLogger(__name__)


class LedgerListener:
    def __init__(
        self,
        libpq_url: str,
        sessions: async_sessionmaker[AsyncSession],
        authorizer: Authorizer,
        max_backoff: float = 30.0,
        coalesce: float = 0.02,
    ) -> None:
        self.url = libpq_url
        self.sessions = sessions
        self.authorizer = authorizer
        self.max_backoff = max_backoff
        self.coalesce = coalesce
        self.wake = asyncio.Event()
        self.connected = asyncio.Event()

    async def catch_up(self) -> int:
        async with self.sessions() as session:
            return await self.authorizer.catch_up(session)

    async def run(self) -> None:
        backoff = 0.5
        while True:
            try:
                conn = await asyncpg.connect(self.url)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("ledger listener cannot connect (%s); retrying in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _c, lost=lost: lost.set())
            try:
                await conn.add_listener(NOTIFY_CHANNEL, lambda *_: self.wake.set())
                self.wake.set()  # whatever happened while we were away
                self.connected.set()
                backoff = 0.5
                await self._serve(lost)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("ledger listener lost its connection (%s)", exc)
            finally:
                self.connected.clear()
                if not conn.is_closed():
                    await conn.close()

    async def _serve(self, lost: asyncio.Event) -> None:
        while not lost.is_set():
            waiter = asyncio.ensure_future(self.wake.wait())
            closer = asyncio.ensure_future(lost.wait())
            try:
                await asyncio.wait({waiter, closer}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
                closer.cancel()
            if self.wake.is_set():
                # a burst of appends (grants at 100/s) becomes one catch-up, not one each
                await asyncio.sleep(self.coalesce)
                self.wake.clear()
                try:
                    await self.catch_up()
                except Exception:
                    log.exception("catch-up after NOTIFY failed; the next request retries")
