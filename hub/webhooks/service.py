"""Registering, listing and removing webhook endpoints, and reading their deliveries: each
organisation sees and changes only its own."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from hub.authz.service import RequestAuthz
from hub.config import Settings
from hub.db.paging import Page, check_first
from hub.errors import BadUserInput, Conflict, Forbidden
from hub.events.types import ALL_TYPES
from hub.webhooks import urls
from hub.webhooks.models import DeliveryStatus, EndpointStatus, WebhookDelivery, WebhookEndpoint
from hub.webhooks.repository import WebhookRepository
from hub.webhooks.secrets import SecretBox, box_at, new_secret

MAX_ENDPOINTS = 10


class WebhookService:
    def __init__(
        self, session: AsyncSession, authz: RequestAuthz, settings: Settings, box: SecretBox
    ) -> None:
        self.repo = WebhookRepository(session)
        self.authz = authz
        self.settings = settings
        self.box = box

    @classmethod
    def with_keys(
        cls, session: AsyncSession, authz: RequestAuthz, settings: Settings
    ) -> WebhookService:
        """With the process's secret box for the configured key file."""
        return cls(session, authz, settings, box_at(settings.webhook_key_file))

    def _org(self) -> uuid.UUID:
        if not self.authz.may("manage", "webhook"):
            raise Forbidden("webhooks are for buyers and factories")
        return self.authz.principal.org_id

    async def register(self, url: str, events: Sequence[str]) -> tuple[WebhookEndpoint, str]:
        """A new endpoint and its signing secret (returned this once, stored encrypted)."""
        org = self._org()
        wanted = sorted(set(events))
        if not wanted:
            raise BadUserInput("name at least one event type", argument="events")
        unknown = [e for e in wanted if e not in ALL_TYPES]
        if unknown:
            raise BadUserInput(
                f"unknown event type {unknown[0]}; known: {', '.join(sorted(ALL_TYPES))}",
                argument="events",
            )
        await urls.resolve(
            url,
            production=self.settings.production,
            allow_private=self.settings.webhook_allow_private,
        )
        if await self.repo.count_of(org) >= MAX_ENDPOINTS:
            raise Conflict(f"an organisation has at most {MAX_ENDPOINTS} webhooks; delete one")
        secret = new_secret()
        endpoint = WebhookEndpoint(
            id=uuid.uuid4(),
            org_id=org,
            url=url.strip(),
            events=wanted,
            secret=self.box.seal(secret),
            status=EndpointStatus.ACTIVE,
        )
        await self.repo.add(endpoint)
        return endpoint, secret

    async def delete(self, endpoint_id: uuid.UUID) -> bool:
        """True if it was there and is gone; false if there was no such webhook of yours (so a
        retried delete is harmless)."""
        return await self.repo.delete(endpoint_id, self._org())

    async def enable(self, endpoint_id: uuid.UUID) -> WebhookEndpoint | None:
        """A disabled endpoint back in service (its failed deliveries stay failed)."""
        org = self._org()
        endpoint = await self.repo.endpoint(endpoint_id, lock=True)
        if endpoint is None or endpoint.org_id != org:
            return None
        endpoint.status = EndpointStatus.ACTIVE
        endpoint.failing_since = None
        endpoint.disabled_at = None
        endpoint.disabled_reason = None
        await self.repo.session.flush()
        return endpoint

    async def mine(self) -> Sequence[WebhookEndpoint]:
        return await self.repo.of_org(self._org())

    async def deliveries(
        self,
        endpoint_id: uuid.UUID | None,
        status: DeliveryStatus | None,
        first: int,
        after: str | None,
    ) -> Page[tuple[WebhookDelivery, uuid.UUID, str]]:
        org = self._org()
        check_first(first, self.settings.page_max)
        return await self.repo.page(org, endpoint_id, status, first, after)
