"""All SQL of webhooks: endpoints, fan-out of events into deliveries, claims and outcomes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Text, bindparam, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT, insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.paging import Page, keyset_page
from hub.directory.models import Organization, Role
from hub.events.models import OutboxEvent
from hub.webhooks.models import DeliveryStatus, EndpointStatus, WebhookDelivery, WebhookEndpoint

# events not yet fanned out, oldest first; a row another process is fanning out is skipped
_UNFANNED = text(
    "SELECT id, txid, event_id, type, at, factory_id, parties, gated_scope, gated_to, data"
    " FROM events WHERE fanned_out_at IS NULL ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED"
)
_FANNED = text("UPDATE events SET fanned_out_at = now() WHERE id = ANY(:ids)").bindparams(
    bindparam("ids", type_=ARRAY(BIGINT))
)

# due deliveries, at most `per_endpoint` in flight per endpoint across all processes
_DUE = text(
    """
    WITH inflight AS (
        SELECT endpoint_id, count(*) AS n FROM webhook_deliveries
        WHERE status = 'PENDING' AND leased_until > now() GROUP BY endpoint_id
    ), due AS (
        SELECT d.id, d.endpoint_id,
               row_number() OVER (PARTITION BY d.endpoint_id ORDER BY d.next_attempt_at, d.id) AS rn
        FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
        WHERE d.status = 'PENDING' AND d.next_attempt_at <= now()
          AND (d.leased_until IS NULL OR d.leased_until <= now()) AND e.status = 'ACTIVE'
        ORDER BY d.next_attempt_at LIMIT 1000
    )
    SELECT due.id FROM due LEFT JOIN inflight i USING (endpoint_id)
    WHERE due.rn <= :per_endpoint - coalesce(i.n, 0) LIMIT :limit
    """
)
# the lease is taken only if no other process took it meanwhile (READ COMMITTED re-checks the
# condition on a row another transaction just updated)
_CLAIM = text(
    """
    UPDATE webhook_deliveries d
    SET leased_until = now() + make_interval(secs => :lease), attempts = d.attempts + 1
    FROM webhook_endpoints e, events ev
    WHERE d.id = ANY(:ids) AND d.status = 'PENDING'
      AND (d.leased_until IS NULL OR d.leased_until <= now())
      AND e.id = d.endpoint_id AND ev.id = d.event_id
    RETURNING d.id, d.endpoint_id, d.attempts, d.created_at, e.url, e.secret, ev.event_id,
              ev.type, ev.at, ev.data
    """
).bindparams(bindparam("ids", type_=ARRAY(BIGINT)))

Claimed = Row[Any]
_TEXTS = ARRAY(Text)


class WebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- endpoints --------------------------------------------------------------------------

    async def add(self, endpoint: WebhookEndpoint) -> None:
        self.session.add(endpoint)
        await self.session.flush()

    async def count_of(self, org_id: uuid.UUID) -> int:
        query = select(func.count()).where(WebhookEndpoint.org_id == org_id)
        return int((await self.session.execute(query)).scalar_one())

    async def of_org(self, org_id: uuid.UUID) -> Sequence[WebhookEndpoint]:
        query = (
            select(WebhookEndpoint)
            .where(WebhookEndpoint.org_id == org_id)
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        )
        return (await self.session.execute(query)).scalars().all()

    async def endpoint(
        self, endpoint_id: uuid.UUID, *, lock: bool = False
    ) -> WebhookEndpoint | None:
        query = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
        if lock:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def delete(self, endpoint_id: uuid.UUID, org_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            delete(WebhookEndpoint).where(
                WebhookEndpoint.id == endpoint_id, WebhookEndpoint.org_id == org_id
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]  # a CursorResult

    async def active_for(
        self, types: Sequence[str]
    ) -> Sequence[Row[uuid.UUID, uuid.UUID, list[str], Role]]:
        """Active endpoints that want any of these event types, with their owner's role."""
        query = (
            select(
                WebhookEndpoint.id,
                WebhookEndpoint.org_id,
                WebhookEndpoint.events,
                Organization.role,
            )
            .join(Organization, Organization.id == WebhookEndpoint.org_id)
            .where(
                WebhookEndpoint.status == EndpointStatus.ACTIVE,
                WebhookEndpoint.events.overlap(bindparam("types", list(types), type_=_TEXTS)),
            )
        )
        return (await self.session.execute(query)).all()

    # --- fan-out ----------------------------------------------------------------------------

    async def unfanned(self, limit: int) -> Sequence[Row[Any]]:
        return (await self.session.execute(_UNFANNED, {"limit": limit})).all()

    async def add_deliveries(self, pairs: Sequence[tuple[uuid.UUID, int]]) -> None:
        if pairs:
            await self.session.execute(
                insert(WebhookDelivery)
                .values([{"endpoint_id": e, "event_id": ev} for e, ev in pairs])
                .on_conflict_do_nothing()
            )

    async def mark_fanned(self, ids: Sequence[int]) -> None:
        await self.session.execute(_FANNED, {"ids": list(ids)})

    # --- delivery ---------------------------------------------------------------------------

    async def claim(self, limit: int, per_endpoint: int, lease: float) -> Sequence[Claimed]:
        ids = (
            (await self.session.execute(_DUE, {"per_endpoint": per_endpoint, "limit": limit}))
            .scalars()
            .all()
        )
        if not ids:
            return []
        return (await self.session.execute(_CLAIM, {"ids": list(ids), "lease": lease})).all()

    async def delivered(self, delivery_id: int, status_code: int) -> None:
        await self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .values(
                status=DeliveryStatus.DELIVERED,
                delivered_at=func.now(),
                leased_until=None,
                last_status_code=status_code,
                last_error=None,
            )
        )

    async def release(self, delivery_id: int) -> None:
        """Give a claimed delivery back untried."""
        await self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .values(leased_until=None, attempts=WebhookDelivery.attempts - 1)
        )

    async def succeeded(self, endpoint_id: uuid.UUID) -> None:
        await self.session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.failing_since.is_not(None))
            .values(failing_since=None)
        )

    async def retry_at(
        self, delivery_id: int, when: datetime | None, status_code: int | None, error: str
    ) -> None:
        """A failed attempt: try again at ``when``, or give up (None)."""
        values: dict[str, Any] = {
            "leased_until": None,
            "last_status_code": status_code,
            "last_error": error,
        }
        if when is None:
            values["status"] = DeliveryStatus.FAILED
        else:
            values["next_attempt_at"] = when
        await self.session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(**values)
        )

    async def fail_pending(self, endpoint_id: uuid.UUID, reason: str) -> None:
        await self.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.endpoint_id == endpoint_id,
                WebhookDelivery.status == DeliveryStatus.PENDING,
            )
            .values(status=DeliveryStatus.FAILED, leased_until=None, last_error=reason)
        )

    async def page(
        self,
        org_id: uuid.UUID,
        endpoint_id: uuid.UUID | None,
        status: DeliveryStatus | None,
        first: int,
        after: str | None,
    ) -> Page[tuple[WebhookDelivery, uuid.UUID, str]]:
        query = (
            select(WebhookDelivery, OutboxEvent.event_id, OutboxEvent.type)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
            .where(WebhookEndpoint.org_id == org_id)
        )
        if endpoint_id is not None:
            query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
        if status is not None:
            query = query.where(WebhookDelivery.status == status)
        return await keyset_page(
            self.session, query.order_by(WebhookDelivery.id.desc()), first, after, whole_row=True
        )
