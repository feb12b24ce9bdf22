"""Subscriptions (graphql-transport-ws on /graphql): buyers follow their suppliers, factories
their own consent events, auditors every consent event.

Each subscription lives as long as its token: it ends with UNAUTHENTICATED when the token
expires (and the view closes the socket then). Every event is checked against the caller's
consent when it is sent, with the consent projection caught up to at least that event
(hub.events.feed), so after a revocation nothing of that factory's reports is announced.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from datetime import datetime

import strawberry

from hub.errors import Conflict, Forbidden, Unauthenticated
from hub.events.audience import FeedEvent, may_hear
from hub.events.types import CONSENT_TYPES
from hub.graphql.context import Context, Info
from hub.ledger.graphql import ConsentEvent
from hub.ledger.models import ConsentEventReason
from hub.ledger.repository import LedgerRepository


@strawberry.type(
    description="A change to one of the buyer's suppliers. Ids only: fetch what your consent "
    "allows with a query. `eventId` is the same id a webhook delivery of it carries."
)
class SupplierUpdate:
    event_id: strawberry.ID
    type: str = strawberry.field(description="e.g. consent.granted, assessment.published")
    at: datetime
    factory_id: strawberry.ID
    consent_id: strawberry.ID | None
    assessment_id: strawberry.ID | None
    status: str | None = strawberry.field(description="the consent's status after this event")

    @classmethod
    def from_event(cls, event: FeedEvent) -> SupplierUpdate:
        data = event.data

        def ident(key: str) -> strawberry.ID | None:
            value = data.get(key)
            return strawberry.ID(str(value)) if value is not None else None

        return cls(
            event_id=strawberry.ID(str(event.event_id)),
            type=event.type,
            at=event.at,
            factory_id=strawberry.ID(str(event.factory_id)),
            consent_id=ident("consentId"),
            assessment_id=ident("assessmentId"),
            status=data.get("status"),
        )


async def _events(ctx: Context, wanted: Callable[[FeedEvent], bool]) -> AsyncIterator[FeedEvent]:
    if ctx.feed is None:
        raise Forbidden("subscriptions are not served by this process")
    principal = ctx.principal
    authorizer = ctx.authz.authorizer
    async with ctx.feed.subscribe(principal.org_id, principal.role) as subscriber:
        while True:
            left = principal.expires_at - time.time()
            if left <= 0:
                raise Unauthenticated("the access token expired; subscribe again with a new one")
            try:
                event = await asyncio.wait_for(subscriber.queue.get(), left)
            except TimeoutError:
                continue  # the loop ends it with UNAUTHENTICATED
            if subscriber.overflowed and subscriber.queue.empty():
                raise Conflict(
                    "this subscription fell too far behind and missed events; subscribe again "
                    "and read what changed with queries"
                )
            if wanted(event) and may_hear(event, principal.org_id, principal.role, authorizer):
                yield event


@strawberry.type
class EventsSubscription:
    @strawberry.subscription(
        description="BUYER: consent changes and newly published assessments of its suppliers, "
        "as they happen (assessments only while it holds SUMMARY consent)."
    )
    async def supplier_updates(self, info: Info) -> AsyncGenerator[SupplierUpdate, None]:
        ctx = info.context
        if not ctx.authz.may("subscribe", "supplier_update"):
            raise Forbidden("supplierUpdates is for buyers")
        # events about a factory (not, say, the notice that one of its webhooks was disabled)
        async for event in _events(ctx, lambda e: e.factory_id is not None):
            yield SupplierUpdate.from_event(event)

    @strawberry.subscription(
        description="FACTORY: its own consent events; AUDITOR: every consent event, as the "
        "ledger records them."
    )
    async def consent_events(self, info: Info) -> AsyncGenerator[ConsentEvent, None]:
        ctx = info.context
        if not ctx.authz.may("subscribe", "consent_event"):
            raise Forbidden("consentEvents is for factories and auditors")
        async for event in _events(ctx, lambda e: e.type in CONSENT_TYPES):
            seq = int(event.data["ledgerSeq"])
            async with ctx.db.fresh() as session:
                entry = await LedgerRepository(session).at(seq)
                reason = await session.get(ConsentEventReason, seq)
            if entry is not None:
                yield ConsentEvent.from_row(entry, reason.reason if reason else None)
