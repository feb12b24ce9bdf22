"""GraphQL types and thin resolvers of webhooks (registration, listing, deliveries)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import strawberry

from hub.graphql.context import Info
from hub.graphql.ids import parse_id
from hub.graphql.pagination import Connection
from hub.webhooks.models import DeliveryStatus, EndpointStatus, WebhookDelivery, WebhookEndpoint
from hub.webhooks.service import WebhookService

WebhookStatus = strawberry.enum(EndpointStatus, name="WebhookStatus")
WebhookDeliveryStatus = strawberry.enum(DeliveryStatus, name="WebhookDeliveryStatus")


@strawberry.type(
    description="A new webhook. `secret` is shown this once: keep it to verify "
    "signatures (Standard Webhooks, `whsec_…`)."
)
class WebhookRegistration:
    id: strawberry.ID
    url: str
    events: list[str]
    secret: str


@strawberry.type(name="Webhook")
class WebhookType:
    id: strawberry.ID
    url: str
    events: list[str]
    status: WebhookStatus  # type: ignore[valid-type]
    created_at: datetime
    failing_since: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None

    @classmethod
    def from_model(cls, e: WebhookEndpoint) -> WebhookType:
        return cls(
            id=strawberry.ID(str(e.id)),
            url=e.url,
            events=list(e.events),
            status=e.status,
            created_at=e.created_at,
            failing_since=e.failing_since,
            disabled_at=e.disabled_at,
            disabled_reason=e.disabled_reason,
        )


@strawberry.type(name="WebhookDelivery")
class WebhookDeliveryType:
    webhook_id: strawberry.ID
    event_id: strawberry.ID = strawberry.field(description="the `webhook-id` header it carries")
    type: str
    status: WebhookDeliveryStatus  # type: ignore[valid-type]
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None

    @classmethod
    def from_row(cls, row: tuple[WebhookDelivery, uuid.UUID, str]) -> WebhookDeliveryType:
        d, event_id, event_type = row
        return cls(
            webhook_id=strawberry.ID(str(d.endpoint_id)),
            event_id=strawberry.ID(str(event_id)),
            type=event_type,
            status=d.status,
            attempts=d.attempts,
            created_at=d.created_at,
            next_attempt_at=d.next_attempt_at if d.status is DeliveryStatus.PENDING else None,
            delivered_at=d.delivered_at,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
        )


def _service(info: Info, session: Any) -> WebhookService:
    ctx = info.context
    return WebhookService.with_keys(session, ctx.authz, ctx.settings)


@strawberry.type
class WebhookQuery:
    @strawberry.field(description="BUYER, FACTORY: your webhooks and whether they are active.")
    async def webhooks(self, info: Info) -> list[WebhookType]:
        async with info.context.db.session() as session:
            return [WebhookType.from_model(e) for e in await _service(info, session).mine()]

    @strawberry.field(description="BUYER, FACTORY: deliveries to your webhooks, newest first.")
    async def webhook_deliveries(
        self,
        info: Info,
        webhook_id: strawberry.ID | None = None,
        status: WebhookDeliveryStatus | None = None,  # type: ignore[valid-type]
        first: int = 50,
        after: str | None = None,
    ) -> Connection[WebhookDeliveryType]:
        endpoint = parse_id(webhook_id, "webhookId") if webhook_id else None
        async with info.context.db.session() as session:
            page = await _service(info, session).deliveries(endpoint, status, first, after)
        return Connection[WebhookDeliveryType].from_page(page, WebhookDeliveryType.from_row)


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(
        description="BUYER, FACTORY: send these event types to this URL, signed with the "
        "secret returned (once)."
    )
    async def register_webhook(
        self, info: Info, url: str, events: list[str]
    ) -> WebhookRegistration:
        async with info.context.db.session() as session:
            endpoint, secret = await _service(info, session).register(url, events)
        return WebhookRegistration(
            id=strawberry.ID(str(endpoint.id)),
            url=endpoint.url,
            events=list(endpoint.events),
            secret=secret,
        )

    @strawberry.mutation(
        description="BUYER, FACTORY: remove one of your webhooks; false if there was none."
    )
    async def delete_webhook(self, info: Info, id: strawberry.ID) -> bool:
        async with info.context.db.session() as session:
            return await _service(info, session).delete(parse_id(id, "id"))

    @strawberry.mutation(
        description="BUYER, FACTORY: put a disabled webhook back in service; null if there "
        "is no such webhook of yours."
    )
    async def enable_webhook(self, info: Info, id: strawberry.ID) -> WebhookType | None:
        async with info.context.db.session() as session:
            endpoint = await _service(info, session).enable(parse_id(id, "id"))
        return WebhookType.from_model(endpoint) if endpoint else None
