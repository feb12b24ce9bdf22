"""One LISTEN connection per process, for every channel the process follows.

On each notification, and after every (re)connect (whatever happened while we were away), the
channel's handler runs; a burst of notifications becomes one call. Handlers read what is new from
tables themselves, so a lost notification delays work and never loses it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

import asyncpg

log = logging.getLogger(__name__)

Handler = Callable[[], Awaitable[object]]


class NotificationListener:
    def __init__(
        self,
        libpq_url: str,
        handlers: Mapping[str, Handler],
        max_backoff: float = 30.0,
        coalesce: float = 0.02,
    ) -> None:
        self.url = libpq_url
        self.handlers = dict(handlers)
        self.max_backoff = max_backoff
        self.coalesce = coalesce
        self.wakes = {channel: asyncio.Event() for channel in self.handlers}
        self.connected = asyncio.Event()

    def wake(self, channel: str) -> None:
        self.wakes[channel].set()

    async def run(self) -> None:
        workers = [
            asyncio.create_task(self._serve(channel), name=f"listen-{channel}")
            for channel in self.handlers
        ]
        try:
            await self._connect_forever()
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def _connect_forever(self) -> None:
        backoff = 0.5
        while True:
            try:
                conn = await asyncpg.connect(self.url)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("listener cannot connect (%s); retrying in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _c, lost=lost: lost.set())
            try:
                for channel in self.handlers:
                    await conn.add_listener(channel, lambda _c, _p, ch, _m: self.wake(ch))
                    self.wake(channel)
                self.connected.set()
                backoff = 0.5
                await lost.wait()
                log.warning("listener lost its connection; reconnecting")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("listener lost its connection (%s)", exc)
            finally:
                self.connected.clear()
                if not conn.is_closed():
                    await conn.close()

    async def _serve(self, channel: str) -> None:
        wake, handler = self.wakes[channel], self.handlers[channel]
        while True:
            await wake.wait()
            await asyncio.sleep(self.coalesce)
            wake.clear()
            try:
                await handler()
            except Exception:
                log.exception("handling NOTIFY on %s failed; the next one retries", channel)
