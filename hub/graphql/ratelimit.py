"""Per-client budgets: cost points per minute (a sliding window from the `limits` package) and
requests in flight. Kept in each process; `hub serve --workers N` gives each process 1/N of the
budget, which holds as the kernel spreads one client's connections over the processes.
A budget spent answers RATE_LIMITED with HTTP 429 and Retry-After."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from hub.config import Settings
from hub.errors import RateLimited

# seconds before a refusal is answered: a client that retries at once, ignoring Retry-After,
# spends its own time waiting rather than the server's CPU answering
TARPIT = 1.0


class Refused(RateLimited):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, retryAfter=retry_after)
        self.retry_after = retry_after


class ClientBudgets:
    def __init__(self, settings: Settings) -> None:
        per_process = settings.rate_budget // settings.workers
        self.item = RateLimitItemPerMinute(per_process) if settings.rate_budget else None
        self.limiter = SlidingWindowCounterRateLimiter(MemoryStorage())
        self.concurrency = max(1, settings.client_concurrency // settings.workers)
        self.capped = settings.client_concurrency > 0
        self.in_flight: Counter[str] = Counter()

    async def charge(self, client: str, cost: int) -> None:
        """Take ``cost`` points from the client's budget, or refuse with when to come back."""
        if self.item is None:
            return
        if cost > self.item.amount:
            raise Refused(
                f"this request's estimated cost ({cost}) exceeds your whole budget per minute "
                f"({self.item.amount}); ask for fewer items with `first`",
                60,
            )
        if not await self.limiter.hit(self.item, client, cost=max(1, cost)):
            stats = await self.limiter.get_window_stats(self.item, client)
            wait = max(1, math.ceil(stats.reset_time - time.time()))
            raise Refused(
                f"rate limit: {self.item.amount} cost points per minute are spent; "
                f"retry in {wait} s",
                wait,
            )

    async def spent(self, client: str) -> int | None:
        """Seconds until the client's budget has room again, if it has none now: refused before
        its request is even parsed."""
        if self.item is None:
            return None
        stats = await self.limiter.get_window_stats(self.item, client)
        if stats.remaining > 0:
            return None
        return max(1, math.ceil(stats.reset_time - time.time()))

    @contextmanager
    def slot(self, client: str) -> Iterator[bool]:
        """Whether the client may have one more request in flight (held until the end)."""
        if not self.capped or self.in_flight[client] < self.concurrency:
            self.in_flight[client] += 1
            try:
                yield True
            finally:
                self.in_flight[client] -= 1
                if self.in_flight[client] <= 0:
                    del self.in_flight[client]
        else:
            yield False
