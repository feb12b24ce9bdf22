"""The consent lifecycle: request, grant (or amend), decline, revoke, expire.

Each change is one transaction that takes FOR UPDATE on the pair's current-state row, appends
the event to the ledger, and updates the row from it. A call that would change nothing returns
the row as it is and appends nothing.

    (none) ─request→ REQUESTED ─grant→ GRANTED ─revoke→ REVOKED
                     REQUESTED ─decline→ DECLINED      GRANTED ─expiry→ EXPIRED
    GRANTED ─grant (other scopes or expiry)→ GRANTED (supersedes)
    DECLINED, REVOKED, EXPIRED ─request→ REQUESTED;  (none), REVOKED, EXPIRED ─grant→ GRANTED
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.principal import Principal
from hub.authz.parties import party_filter
from hub.authz.service import RequestAuthz
from hub.consent.models import Consent, ConsentScope, ConsentStatus
from hub.consent.repository import ConsentRepository
from hub.db.paging import Page, check_first
from hub.directory.models import Factory, Role
from hub.directory.repository import DirectoryRepository
from hub.errors import BadUserInput, Conflict, Forbidden, NotFound
from hub.events.outbox import emit
from hub.events.types import CONSENT_AMENDED
from hub.ledger.events import EventType, NewEvent
from hub.ledger.repository import LedgerRepository
from hub.matching.repository import SupplierRepository

MAX_TEXT = 2000


def normalise_scopes(scopes: Sequence[ConsentScope]) -> tuple[str, ...]:
    if not scopes:
        raise BadUserInput("name at least one scope: SUMMARY, FINDINGS or IMPROVEMENT_PLAN")
    return tuple(sorted({s.value for s in scopes}))


def _text(value: str | None, what: str) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > MAX_TEXT:
        raise BadUserInput(f"{what} is limited to {MAX_TEXT} characters")
    return value.strip()


class ConsentState(Protocol):
    status: ConsentStatus
    expires_at: datetime | None


def is_in_force(consent: ConsentState, now: datetime) -> bool:
    # the same rule stands in SQL in the database function disclose() (the migration "disclose
    # in one statement"), which checks it at commit under the consent rows' locks
    return consent.status is ConsentStatus.GRANTED and (
        consent.expires_at is None or now < consent.expires_at
    )


class ConsentService:
    def __init__(self, session: AsyncSession, authz: RequestAuthz) -> None:
        self.consents = ConsentRepository(session)
        self.directory = DirectoryRepository(session)
        self.ledger = LedgerRepository(session)
        self.suppliers = SupplierRepository(session)
        self.authz = authz

    @property
    def principal(self) -> Principal:
        return self.authz.principal

    # --- buyer ------------------------------------------------------------------------------

    async def request_access(
        self, factory_id: uuid.UUID, scopes: Sequence[ConsentScope], message: str | None
    ) -> Consent:
        if not self.authz.may("request", "consent"):
            raise Forbidden("only buyers request access to reports")
        wanted = normalise_scopes(scopes)
        note = _text(message, "message")
        factory = await self._factory(factory_id)
        buyer_id = self.principal.org_id
        await self.suppliers.ensure_link(buyer_id, factory)
        consent = await self.consents.for_update(factory.id, buyer_id)
        now = datetime.now(UTC)
        if consent is not None:
            if consent.status is ConsentStatus.REQUESTED and tuple(consent.scopes) == wanted:
                return consent
            if is_in_force(consent, now):
                if set(wanted) <= set(consent.scopes):
                    return consent
                raise Conflict(
                    "a grant is in force; the factory can widen it (grantConsent) on request"
                )
        consent = await self._record(
            consent, factory, buyer_id, EventType.REQUESTED, wanted, None, None
        )
        consent.message = note
        return consent

    # --- factory ----------------------------------------------------------------------------

    async def grant(
        self,
        buyer_id: uuid.UUID,
        scopes: Sequence[ConsentScope],
        expires_at: datetime | None,
    ) -> Consent:
        factory = await self._own_factory("grant")
        wanted = normalise_scopes(scopes)
        now = datetime.now(UTC)
        if expires_at is not None:
            if expires_at.tzinfo is None:
                raise BadUserInput("expiresAt needs a time zone, e.g. 2027-01-01T00:00:00Z")
            if expires_at <= now:
                raise BadUserInput("expiresAt must be in the future")
        buyer = await self.directory.organization(buyer_id)
        if buyer is None or buyer.role is not Role.BUYER:
            raise NotFound(f"no buyer {buyer_id}", argument="buyerId")
        await self.suppliers.ensure_link(buyer.id, factory)
        consent = await self.consents.for_update(factory.id, buyer.id)
        if consent is not None:
            if (
                is_in_force(consent, now)
                and tuple(consent.scopes) == wanted
                and consent.expires_at == expires_at
            ):
                return consent
            if consent.status is ConsentStatus.DECLINED:
                raise Conflict("you declined this buyer's request; it must request access again")
        return await self._record(
            consent, factory, buyer.id, EventType.GRANTED, wanted, expires_at, None
        )

    async def decline(self, consent_id: uuid.UUID, reason: str | None) -> Consent:
        consent, factory = await self._visible_for_update(consent_id)
        self._require("decline", factory)
        if consent.status is ConsentStatus.DECLINED:
            return consent
        if consent.status is not ConsentStatus.REQUESTED:
            raise Conflict(
                f"only a pending request can be declined; this one is {consent.status.value}"
            )
        return await self._record(
            consent,
            factory,
            consent.buyer_org_id,
            EventType.DECLINED,
            (),
            None,
            _text(reason, "reason"),
        )

    async def revoke(self, consent_id: uuid.UUID, reason: str | None) -> Consent:
        consent, factory = await self._visible_for_update(consent_id)
        self._require("revoke", factory)
        if consent.status in (ConsentStatus.REVOKED, ConsentStatus.EXPIRED):
            return consent
        if consent.status is not ConsentStatus.GRANTED:
            raise Conflict(f"only a grant can be revoked; this consent is {consent.status.value}")
        return await self._record(
            consent,
            factory,
            consent.buyer_org_id,
            EventType.REVOKED,
            (),
            None,
            _text(reason, "reason"),
        )

    # --- reading ----------------------------------------------------------------------------

    async def page_visible(
        self,
        *,
        status: ConsentStatus | None,
        factory_id: uuid.UUID | None,
        buyer_id: uuid.UUID | None,
        first: int,
        after: str | None,
        page_max: int,
    ) -> Page[Consent]:
        """All consents for auditors and admins; a party's own for buyers and factories."""
        check_first(first, page_max)
        narrowed = await party_filter(
            self.consents.session, self.authz, "consent", factory_id, buyer_id
        )
        if narrowed is None:
            return Page.empty()
        return await self.consents.page(
            factory_id=narrowed.factory_id,
            buyer_id=narrowed.buyer_id,
            status=status,
            first=first,
            after=after,
        )

    # --- merges -----------------------------------------------------------------------------

    async def carry_over(self, consent: Consent, merged: Factory, survivor: Factory) -> None:
        """A factory record merged into another: its live consent moves, in the ledger too.
        A grant in force is revoked on the old record and granted on the survivor, a pending
        request is declined there and made here; ended consents stay as history."""
        reason = f"factory record merged into {survivor.hub_id}"
        now = datetime.now(UTC)
        buyer = consent.buyer_org_id
        if await self.consents.for_update(survivor.id, buyer) is not None:
            raise Conflict(
                f"both records hold a consent with buyer {buyer}; settle one before merging"
            )
        if is_in_force(consent, now):
            scopes, expires = tuple(consent.scopes), consent.expires_at
            await self._record(consent, merged, buyer, EventType.REVOKED, (), None, reason)
            await self._record(None, survivor, buyer, EventType.GRANTED, scopes, expires, reason)
        elif consent.status is ConsentStatus.REQUESTED:
            scopes = tuple(consent.scopes)
            await self._record(consent, merged, buyer, EventType.DECLINED, (), None, reason)
            await self._record(None, survivor, buyer, EventType.REQUESTED, scopes, None, reason)

    async def of_factory(self, factory_id: uuid.UUID) -> list[Consent]:
        return await self.consents.of_factory_for_update(factory_id)

    # --- sweeper ----------------------------------------------------------------------------

    async def expire_due(self, system_actor: uuid.UUID, limit: int = 500) -> int:
        """Append EXPIRED for grants past their expiry (locked rows are skipped, not waited on)."""
        due = await self.consents.expired_grants(datetime.now(UTC), limit)
        for consent in due:
            factory = await self.directory.factory(consent.factory_id)
            assert factory is not None
            await self._record(
                consent,
                factory,
                consent.buyer_org_id,
                EventType.EXPIRED,
                (),
                None,
                None,
                actor=system_actor,
            )
        return len(due)

    # --- helpers ----------------------------------------------------------------------------

    async def _factory(self, factory_id: uuid.UUID) -> Factory:
        factory = await self.directory.factory(factory_id)
        if factory is None:
            raise NotFound(f"no factory {factory_id}", argument="factoryId")
        return factory

    async def _own_factory(self, action: str) -> Factory:
        if self.principal.role is not Role.FACTORY:
            raise Forbidden(f"only the factory can {action} consent")
        factory = await self.directory.factory_claimed_by(self.principal.org_id)
        if factory is None:
            raise Forbidden("your organisation has not claimed a factory profile yet")
        self._require(action, factory)
        return factory

    def _require(self, action: str, factory: Factory) -> None:
        if not self.authz.may(action, "consent", factory.claimed_by_org_id):
            raise Forbidden(f"you may not {action} this consent")

    async def _visible_for_update(self, consent_id: uuid.UUID) -> tuple[Consent, Factory]:
        """The consent if the caller is a party to it (or audits), else NOT_FOUND."""
        consent = await self.consents.by_id_for_update(consent_id)
        if consent is not None:
            factory = await self._factory(consent.factory_id)
            org = self.principal.org_id
            if org in (consent.buyer_org_id, factory.claimed_by_org_id) or self.principal.role in (
                Role.AUDITOR,
                Role.ADMIN,
            ):
                return consent, factory
        raise NotFound(f"no consent {consent_id}", argument="consentId")

    async def _record(
        self,
        consent: Consent | None,
        factory: Factory,
        buyer_id: uuid.UUID,
        kind: EventType,
        scopes: tuple[str, ...],
        expires_at: datetime | None,
        reason: str | None,
        *,
        actor: uuid.UUID | None = None,
    ) -> Consent:
        if consent is None:
            consent = Consent(
                id=uuid.uuid4(),
                factory_id=factory.id,
                buyer_org_id=buyer_id,
                status=ConsentStatus(kind.value),
                scopes=list(scopes),
                ledger_seq=-1,
            )
            try:
                async with self.consents.session.begin_nested():
                    await self.consents.add(consent)
            except IntegrityError:
                raise Conflict("this consent changed at the same moment; try again") from None
        amends = (
            kind is EventType.GRANTED
            and consent.ledger_seq >= 0
            and is_in_force(consent, datetime.now(UTC))
        )
        # the ledger entry and the row's new state, in one statement under the ledger lock
        consent = await self.ledger.append_consent(
            NewEvent(
                type=kind,
                consent_id=consent.id,
                factory_id=factory.id,
                buyer_id=buyer_id,
                actor_id=actor or self.principal.org_id,
                scopes=scopes,
                expires_at=expires_at,
                reason=reason,
            )
        )
        await emit(
            self.consents.session,
            CONSENT_AMENDED if amends else f"consent.{kind.value.lower()}",
            factory_id=factory.id,
            parties=(factory.claimed_by_org_id, buyer_id),
            data={
                "consentId": str(consent.id),
                "factoryId": str(factory.id),
                "buyerId": str(buyer_id),
                "status": consent.status.value,
                "ledgerSeq": consent.ledger_seq,
            },
        )
        return consent
