"""Per-client budgets: cost points per minute (hub.ops.throttle) and requests in flight, each
process holding its share. A budget spent answers RATE_LIMITED with HTTP 429 and Retry-After."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from hub.config import Settings
from hub.errors import RateLimited
from hub.ops.throttle import MinuteBudget


class Refused(RateLimited):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, retryAfter=retry_after)
        self.retry_after = retry_after


class ClientBudgets:
    def __init__(self, settings: Settings) -> None:
        self.budget = (
            MinuteBudget(settings.rate_budget, settings.workers, paced=True)
            if settings.rate_budget
            else None
        )
        self.concurrency = max(1, settings.client_concurrency // settings.workers)
        self.capped = settings.client_concurrency > 0
        self.in_flight: Counter[str] = Counter()

    async def charge(self, client: str, cost: int) -> None:
        """Take ``cost`` points from the client's budget, or refuse with when to come back."""
        if self.budget is None:
            return
        if cost > self.budget.amount:
            raise Refused(
                f"this request's estimated cost ({cost}) exceeds your whole budget per minute "
                f"({self.budget.amount}); ask for fewer items with `first`",
                60,
            )
        wait = await self.budget.take(client, cost)
        if wait is not None:
            raise Refused(
                f"rate limit: {self.budget.amount} cost points per minute are spent; "
                f"retry in {wait} s",
                wait,
            )

    async def spent(self, client: str) -> int | None:
        """Seconds until the client's budget has room again, if it has none now: refused before
        its request is even parsed."""
        return None if self.budget is None else await self.budget.spent(client)

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
