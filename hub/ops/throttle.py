"""A budget of points per minute per key (the `limits` package's sliding-window counter), kept
in this process; `hub serve --workers N` gives each process 1/N of it, which holds as the kernel
spreads one caller's connections over the processes."""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

# seconds before a refusal is answered: a caller that retries at once, ignoring Retry-After,
# spends its own time waiting rather than the server's CPU answering
TARPIT = 1.0


class MinuteBudget:
    def __init__(self, per_minute: int, workers: int) -> None:
        self.amount = max(1, per_minute // workers)
        self.item = RateLimitItemPerMinute(self.amount)
        self.limiter = SlidingWindowCounterRateLimiter(MemoryStorage())

    async def take(self, key: str, cost: int = 1) -> int | None:
        """Take ``cost`` points; None when they were there, else seconds until they will be."""
        if await self.limiter.hit(self.item, key, cost=max(1, cost)):
            return None
        return await self._wait(key)

    async def spent(self, key: str) -> int | None:
        """Seconds until the key's budget has room again, if it has none now."""
        stats = await self.limiter.get_window_stats(self.item, key)
        return None if stats.remaining > 0 else await self._wait(key)

    async def _wait(self, key: str) -> int:
        stats = await self.limiter.get_window_stats(self.item, key)
        return max(1, math.ceil(stats.reset_time - time.time()))
