"""May they? Decisions for services and resolvers; the only place that asks Casbin.

Every decision fails closed: an error while deciding is a denial. Report access for a buyer
comes from one source, the consented map (g2 links of grants in force), whether the caller
asks about one factory or filters a list; an object check and a list filter cannot disagree.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.principal import Principal
from hub.authz.enforcer import build_enforcer
from hub.authz.projection import ConsentProjection, Grant, LedgerFact, org_subject
from hub.directory.models import Role
from hub.ledger.repository import LedgerRepository

log = logging.getLogger(__name__)

ALL_SCOPES = frozenset({"SUMMARY", "FINDINGS", "IMPROVEMENT_PLAN"})


class Authorizer:
    """Process-wide: the enforcer and the consent projection, caught up from the ledger."""

    def __init__(self) -> None:
        self.enforcer, links = build_enforcer(self._in_force)
        self._reports = self.enforcer.new_enforce_context("2")
        self.projection = ConsentProjection(links)
        self._lock = asyncio.Lock()

    def _in_force(self, obj: str, sub: str) -> bool:
        return self.projection.in_force(obj, sub)

    @property
    def revision(self) -> int:
        return self.projection.revision

    async def catch_up(self, session: AsyncSession, head: int | None = None) -> int:
        """Apply every ledger event up to ``head`` (read now if not given) that is newer than
        our revision; return how many were applied."""
        ledger = LedgerRepository(session)
        if head is None:
            head = await ledger.head()
        if head <= self.projection.revision:
            return 0
        applied = 0
        async with self._lock:
            while self.projection.revision < head:
                rows = await ledger.facts_after(self.projection.revision)
                if not rows:
                    break
                for seq, event_type, factory_id, buyer_id, scopes, expires_at in rows:
                    self.projection.apply(
                        LedgerFact(seq, event_type, factory_id, buyer_id, tuple(scopes), expires_at)
                    )
                    applied += 1
        return applied

    def may(
        self, principal: Principal, act: str, kind: str, owner: uuid.UUID | None = None
    ) -> bool:
        return self._enforce(principal, kind, act, "", owner)

    def check_report(self, principal: Principal, obj: str, owner: uuid.UUID | None) -> bool:
        """One Casbin decision on one report object (p2 and m2 of the model)."""
        try:
            return bool(
                self.enforcer.enforce(
                    self._reports,
                    org_subject(principal.org_id),
                    principal.role.value,
                    obj,
                    org_subject(owner) if owner else "",
                )
            )
        except Exception:  # fail closed: any error while deciding is a denial
            log.exception("authorization error: denied")
            return False

    def _enforce(
        self, principal: Principal, kind: str, act: str, obj: str, owner: uuid.UUID | None
    ) -> bool:
        try:
            return bool(
                self.enforcer.enforce(
                    org_subject(principal.org_id),
                    principal.role.value,
                    kind,
                    act,
                    obj,
                    org_subject(owner) if owner else "",
                )
            )
        except Exception:  # fail closed: any error while deciding is a denial
            log.exception("authorization error: denied")
            return False

    def buyer_grants(self, principal: Principal) -> Mapping[uuid.UUID, Grant]:
        """Grants in force to this buyer, from the g2 links; empty for any other role."""
        if principal.role is not Role.BUYER:
            return {}
        if not self.enforcer.has_named_policy("p2", Role.BUYER.value, "consent"):
            return {}
        try:
            return self.projection.consented_to(principal.org_id, datetime.now(UTC))
        except Exception:
            log.exception("authorization error: denied")
            return {}


@dataclass
class RequestAuthz:
    """One request's view of the Authorizer: decisions memoised so a list decides once."""

    authorizer: Authorizer
    principal: Principal
    healthy: bool = True
    _grants: Mapping[uuid.UUID, Grant] | None = field(default=None, repr=False)
    _first_expiry: datetime | None = field(default=None, repr=False)

    def grants(self) -> Mapping[uuid.UUID, Grant]:
        if not self.healthy:
            return {}
        if self._grants is None:
            self._grants = self.authorizer.buyer_grants(self.principal)
            # read with the map, with no await between: the expiry of this very map
            self._first_expiry = self.authorizer.projection.next_expiry(self.principal.org_id)
        return self._grants

    def valid_until(self) -> datetime | None:
        """When the first of the caller's grants now in force lapses by itself (an answer built
        on them is not reused past it)."""
        return self._first_expiry if self.grants() else None

    def may(self, act: str, kind: str, owner: uuid.UUID | None = None) -> bool:
        return self.healthy and self.authorizer.may(self.principal, act, kind, owner)

    def report_scopes(
        self,
        factory_id: uuid.UUID,
        factory_owner: uuid.UUID | None,
        author: uuid.UUID | None = None,
    ) -> frozenset[str]:
        """What of this factory's reports the caller may read now."""
        if not self.healthy:
            return frozenset()
        role = self.principal.role
        if role is Role.BUYER:
            grant = self.grants().get(factory_id)
            return grant.scopes if grant else frozenset()
        owner = factory_owner if role is Role.FACTORY else author if role is Role.ASSESSOR else None
        if owner is not None and self.authorizer.check_report(self.principal, "", owner):
            return ALL_SCOPES
        return frozenset()
