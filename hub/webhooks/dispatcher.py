"""Sends webhooks: every process runs one; they share the work through the database.

1. Fan-out: committed events not yet handled (claimed with SKIP LOCKED, so each is handled by
   one process, and a process that dies mid-way leaves them to the next) become one delivery
   per active endpoint that wants the type and whose organisation may hear of the event now
   (hub.events.audience), in one transaction with marking them handled.
2. Delivery: due deliveries are leased (a process that dies while sending leaves them to be
   leased again when the lease lapses: at least once, and the receiver deduplicates by
   `webhook-id`), at most HUB_WEBHOOK_CONCURRENCY in flight per endpoint across processes,
   sent with a timeout from background tasks, so a slow receiver holds no request and no
   database connection, and their outcome recorded.
3. A failed attempt is retried with exponential backoff (and no sooner than a Retry-After asks)
   until HUB_WEBHOOK_WINDOW has passed since the event, the last try at its end. An endpoint
   that has taken nothing for that long (failing since its oldest undelivered event) is
   disabled, its pending deliveries fail, and its owner is told with a `webhook.disabled`
   event (visible in `webhooks`, and sent to its other endpoints).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
from cryptography.fernet import InvalidToken
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.authz.service import Authorizer
from hub.config import Settings
from hub.directory.models import Role
from hub.errors import BadUserInput
from hub.events.audience import may_hear
from hub.events.feed import feed_event
from hub.events.outbox import emit
from hub.events.types import WEBHOOK_DISABLED
from hub.webhooks import signing, urls
from hub.webhooks.models import EndpointStatus, WebhookEndpoint
from hub.webhooks.repository import Claimed, WebhookRepository
from hub.webhooks.secrets import SecretBox

log = logging.getLogger(__name__)

FANOUT_BATCH = 500
MAX_IN_FLIGHT = 64  # sends per process
MAX_ERROR = 300  # characters of a failure kept with the delivery


class WebhookDispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        authorizer: Authorizer,
        box: SecretBox,
        settings: Settings,
    ) -> None:
        self.sessions = sessions
        self.authorizer = authorizer
        self.box = box
        self.settings = settings
        self._wake = asyncio.Event()
        self._events = True  # look for events not fanned out yet (at start, and on NOTIFY)
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._sending: set[asyncio.Task[None]] = set()
        # the lease outlives the send's timeout, so no second process sends it meanwhile
        self.lease = settings.webhook_timeout * 2 + 5

    def wake(self) -> None:
        self._wake.set()

    def events_committed(self) -> None:
        """NOTIFY handler: there may be events to fan out."""
        self._events = True
        self._wake.set()

    async def run(self) -> None:
        timeout = httpx.Timeout(self.settings.webhook_timeout)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            try:
                while True:
                    self._wake.clear()
                    try:
                        if self._events:
                            self._events = False
                            while await self.fan_out() == FANOUT_BATCH:
                                pass
                        await self.deliver_due(client)
                    except Exception:
                        self._events = True
                        log.exception("webhook dispatch failed; retrying")
                    try:
                        await asyncio.wait_for(self._wake.wait(), self.settings.webhook_poll)
                    except TimeoutError:
                        self._events = True  # another process's fan-out may have died
            finally:
                for task in self._sending:
                    task.cancel()
                await asyncio.gather(*self._sending, return_exceptions=True)

    # --- fan-out ----------------------------------------------------------------------------

    async def fan_out(self) -> int:
        """One batch of events into deliveries; how many events were handled."""
        async with self.sessions() as session, session.begin():
            repo = WebhookRepository(session)
            rows = await repo.unfanned(FANOUT_BATCH)
            if not rows:
                return 0
            events = [feed_event(r) for r in rows]
            endpoints = await repo.active_for(sorted({e.type for e in events}))
            if endpoints:
                # who may hear of an event is decided on the consents as they are now; with no
                # endpoint wanting these events (the usual case) there is nothing to decide
                await self.authorizer.catch_up(session)
            pairs = [
                (endpoint.id, event.id)
                for event in events
                for endpoint in endpoints
                if event.type in endpoint.events
                and may_hear(event, endpoint.org_id, Role(endpoint.role), self.authorizer)
            ]
            await repo.add_deliveries(pairs)
            await repo.mark_fanned([e.id for e in events])
        if pairs:
            self.wake()
        return len(events)

    # --- delivery ---------------------------------------------------------------------------

    async def deliver_due(self, client: httpx.AsyncClient) -> int:
        free = MAX_IN_FLIGHT - len(self._sending)
        if free <= 0:
            return 0
        async with self.sessions() as session, session.begin():
            claimed = await WebhookRepository(session).claim(
                free, self.settings.webhook_concurrency, self.lease
            )
        for delivery in claimed:
            task = asyncio.create_task(self._send(client, delivery))
            self._sending.add(task)
            task.add_done_callback(self._done)
        return len(claimed)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self.wake()  # a slot is free; more may be due

    async def _send(self, client: httpx.AsyncClient, d: Claimed) -> None:
        status_code: int | None = None
        retry_after: float | None = None
        try:
            secret = self.box.open(d.secret)
        except InvalidToken:
            # sealed with another key file: this process is misconfigured, not the receiver
            # at fault; leave the delivery to a process that holds the right key
            log.error(
                "cannot open webhook secrets: HUB_WEBHOOK_KEY_FILE differs from the one that "
                "sealed them; this process sends no webhooks until that is fixed"
            )
            await self._release(d)
            return
        try:
            target = await urls.resolve(
                d.url,
                production=self.settings.production,
                allow_private=self.settings.webhook_allow_private,
            )
            payload = signing.body(d.type, d.at, d.data)
            headers = signing.headers(secret, str(d.event_id), payload)
            status_code, retry_after = await _post(client, target, headers, payload)
            error = "" if 200 <= status_code < 300 else f"answered HTTP {status_code}"
        except BadUserInput as exc:
            error = exc.message
        except httpx.TimeoutException:
            error = f"no answer within {self.settings.webhook_timeout:g} s"
        except httpx.HTTPError as exc:
            error = f"could not deliver: {type(exc).__name__}: {exc}"[:MAX_ERROR]
        except Exception as exc:  # recorded as a failure, never lost
            log.exception("webhook delivery %s failed unexpectedly", d.id)
            error = f"could not deliver: {type(exc).__name__}"
        try:
            await self._record(d, status_code, error, retry_after)
        except Exception:
            # the lease lapses and another attempt follows: at least once
            log.exception("could not record the outcome of webhook delivery %s", d.id)

    async def _release(self, d: Claimed) -> None:
        async with self.sessions() as session, session.begin():
            await WebhookRepository(session).release(d.id)

    async def _record(
        self, d: Claimed, status_code: int | None, error: str, retry_after: float | None
    ) -> None:
        now = datetime.now(UTC)
        async with self.sessions() as session, session.begin():
            repo = WebhookRepository(session)
            if not error and status_code is not None:
                await repo.delivered(d.id, status_code)
                await repo.succeeded(d.endpoint_id)  # no lock unless it was failing
                return
            endpoint = await repo.endpoint(d.endpoint_id, lock=True)
            window = timedelta(seconds=self.settings.webhook_window)
            # retried until the window has passed, the last try right at its end
            due = min(
                now + timedelta(seconds=self._backoff(d.attempts, retry_after)),
                d.created_at + window,
            )
            give_up = now - d.created_at >= window
            await repo.retry_at(d.id, None if give_up else due, status_code, error)
            if endpoint is None or endpoint.status is not EndpointStatus.ACTIVE:
                return
            # failing since the first delivery it has not taken was due
            endpoint.failing_since = min(endpoint.failing_since or d.created_at, d.created_at)
            if now - endpoint.failing_since >= window:
                await self._disable(session, repo, endpoint, error)

    async def _disable(
        self,
        session: AsyncSession,
        repo: WebhookRepository,
        endpoint: WebhookEndpoint,
        error: str,
    ) -> None:
        hours = self.settings.webhook_window / 3600
        endpoint.status = EndpointStatus.DISABLED
        endpoint.disabled_at = datetime.now(UTC)
        endpoint.disabled_reason = (
            f"every delivery failed for {hours:g} h (last: {error}); fix the receiver, then "
            "enableWebhook"
        )
        await repo.fail_pending(endpoint.id, "endpoint disabled")
        await session.flush()
        await emit(
            session,
            WEBHOOK_DISABLED,
            factory_id=None,
            parties=(endpoint.org_id,),
            data={"webhookId": str(endpoint.id)},
        )
        log.warning("webhook %s disabled after failing for %g h", endpoint.id, hours)

    def _backoff(self, attempts: int, retry_after: float | None) -> float:
        base = self.settings.webhook_retry_base * 2 ** max(0, attempts - 1)
        delay = min(base, self.settings.webhook_retry_max) * random.uniform(0.8, 1.2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.settings.webhook_retry_max))
        return float(delay)


async def _post(
    client: httpx.AsyncClient, target: urls.Target, headers: dict[str, str], payload: bytes
) -> tuple[int, float | None]:
    """POST to the very address that was checked; the answer's body is not read."""
    url = target.url
    host_port = target.host if url.port is None else f"{target.host}:{url.port}"
    address = f"[{target.address}]" if ":" in target.address else target.address
    pinned = url._replace(netloc=f"{address}:{target.port}").geturl()
    request = client.build_request(
        "POST",
        pinned,
        content=payload,
        headers={**headers, "host": host_port},
        extensions={"sni_hostname": target.host},
    )
    response = await client.send(request, stream=True)
    try:
        return response.status_code, _retry_after(response.headers.get("retry-after"))
    finally:
        await response.aclose()


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    with contextlib.suppress(ValueError):
        return max(0.0, float(value))
    with contextlib.suppress(TypeError, ValueError):
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    return None
