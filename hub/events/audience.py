"""Who may hear of an event, decided when it is sent, for subscriptions and webhooks alike."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.auth.principal import Principal
from hub.authz.service import Authorizer
from hub.directory.models import Role
from hub.events.types import CONSENT_TYPES


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """A committed outbox row, as readers pass it around."""

    id: int
    txid: int
    event_id: uuid.UUID
    type: str
    at: datetime
    factory_id: uuid.UUID | None
    parties: frozenset[uuid.UUID]
    gated_scope: str | None
    gated_to: frozenset[uuid.UUID] | None
    data: dict[str, Any]


def buyer_holds(
    authorizer: Authorizer, buyer_id: uuid.UUID, factory_id: uuid.UUID, scope: str
) -> bool:
    """Whether this buyer holds ``scope`` on the factory now, from the consent projection (the
    caller catches it up first). Any error is a no."""
    as_buyer = Principal(org_id=buyer_id, role=Role.BUYER, subject="", token_id="", expires_at=0)
    grant = authorizer.buyer_grants(as_buyer).get(factory_id)
    return grant is not None and scope in grant.scopes


def may_hear(event: FeedEvent, org_id: uuid.UUID, role: Role, authorizer: Authorizer) -> bool:
    if org_id in event.parties:
        return True
    if role is Role.AUDITOR and event.type in CONSENT_TYPES:
        return True
    if role is not Role.BUYER or event.gated_scope is None or event.factory_id is None:
        return False
    if event.gated_to is not None and org_id not in event.gated_to:
        return False
    return buyer_holds(authorizer, org_id, event.factory_id, event.gated_scope)
