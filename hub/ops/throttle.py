"""A budget of points per minute per key (the `limits` package's sliding-window counter), kept
in this process; `hub serve --workers N` gives each process 1/N of it, which holds as the kernel
spreads one caller's connections over the processes."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

# seconds before a refusal is answered: a caller that retries at once, ignoring Retry-After,
# spends its own time waiting rather than the server's CPU answering
TARPIT = 1.0

# with `paced`, at most 1/BURST_SHARE of the minute's points may go within any BURST_SECONDS:
# twice the average rate, room for a steady client whose connections all reach one process
BURST_SECONDS = 10
BURST_SHARE = 3


class MinuteBudget:
    """``per_minute`` points per key. A ``paced`` budget also holds a key to a third of that
    within any 10 s, or to one request however dear (it takes the whole 10 s share): without
    it a client that starts flooding spends its whole minute in its first second or two, while
    its requests hold every worker and every other client waits behind them."""

    def __init__(self, per_minute: int, workers: int, *, paced: bool = False) -> None:
        self.amount = max(1, per_minute // workers)
        self.items: list[RateLimitItem] = [RateLimitItemPerMinute(self.amount)]
        if paced and self.amount >= BURST_SHARE:
            burst = math.ceil(self.amount / BURST_SHARE)
            self.items.append(RateLimitItemPerSecond(burst, BURST_SECONDS))
        self.limiter = SlidingWindowCounterRateLimiter(MemoryStorage())

    async def take(self, key: str, cost: int = 1) -> int | None:
        """Take ``cost`` points; None when they were there, else seconds until they will be."""
        charges = [(item, min(max(1, cost), item.amount)) for item in self.items]
        for item, charge in charges:
            if not await self.limiter.test(item, key, cost=charge):
                return await self._wait(key, charges) or 1
        for item, charge in charges:
            # one event loop per process and no await inside MemoryStorage between the tests
            # and these hits that another request could use to take the same points
            await self.limiter.hit(item, key, cost=charge)
        return None

    async def spent(self, key: str) -> int | None:
        """Seconds until the key's budget has room again, if it has none now."""
        return await self._wait(key, [(item, 1) for item in self.items])

    async def _wait(self, key: str, charges: list[tuple[RateLimitItem, int]]) -> int | None:
        """Seconds until every window that lacks its charge has turned over; None if none
        lacks it. Each window's stats are read once: this runs before every request's body."""
        waits = []
        for item, charge in charges:
            stats = await self.limiter.get_window_stats(item, key)
            if stats.remaining < charge:
                waits.append(stats.reset_time - time.time())
        return max(1, math.ceil(max(waits))) if waits else None
