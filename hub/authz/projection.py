"""The consent ledger projected into Casbin: grants in force as g2 links, with a revision.

Applied strictly in ledger order, as deltas: a GRANTED event replaces the pair's links with
one per granted scope (a change of scopes is a new grant); REVOKED and EXPIRED remove them.
REQUESTED and DECLINED change nothing here.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from hub.authz.enforcer import SetRoleManager


@dataclass(frozen=True, slots=True)
class Grant:
    scopes: frozenset[str]
    expires_at: datetime | None
    seq: int  # the ledger index of the GRANTED event

    def in_force(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True, slots=True)
class LedgerFact:
    """What the projection reads of a ledger row."""

    seq: int
    event_type: str
    factory_id: uuid.UUID | None  # None on events that concern no pair (digests, …)
    buyer_id: uuid.UUID | None
    scopes: tuple[str, ...]
    expires_at: datetime | None


def report_object(factory_id: uuid.UUID, scope: str) -> str:
    return f"factory:{factory_id}:{scope}"


def org_subject(org_id: uuid.UUID) -> str:
    return f"org:{org_id}"


@dataclass(frozen=True, slots=True)
class _Consented:
    version: int  # the buyer's change count when computed
    next_expiry: datetime | None  # the first of these grants to lapse by itself
    grants: Mapping[uuid.UUID, Grant]


class ConsentProjection:
    def __init__(self, links: SetRoleManager) -> None:
        self.links = links
        self.revision = -1
        self.grants: dict[tuple[uuid.UUID, uuid.UUID], Grant] = {}
        # per buyer: how often its grants changed, and the last consented map read from the
        # links; reading the links costs O(grants of the buyer) (3,917 for the largest buyer of
        # the large benchmark: a third of a request), so it is read again only after a change
        # or an expiry
        self._versions: dict[uuid.UUID, int] = {}
        self._consented: dict[uuid.UUID, _Consented] = {}

    def apply(self, fact: LedgerFact) -> None:
        if fact.seq <= self.revision:
            return
        if fact.seq != self.revision + 1:
            raise RuntimeError(f"ledger gap: at revision {self.revision}, got {fact.seq}")
        if fact.factory_id is None or fact.buyer_id is None:
            self.revision = fact.seq
            return
        pair = (fact.factory_id, fact.buyer_id)
        self._versions[fact.buyer_id] = self._versions.get(fact.buyer_id, 0) + 1
        if fact.event_type == "GRANTED":
            self._unlink(pair)
            grant = Grant(frozenset(fact.scopes), fact.expires_at, fact.seq)
            self.grants[pair] = grant
            for scope in grant.scopes:
                self.links.add_link(
                    report_object(fact.factory_id, scope), org_subject(fact.buyer_id)
                )
        elif fact.event_type in ("REVOKED", "EXPIRED"):
            self._unlink(pair)
        self.revision = fact.seq

    def _unlink(self, pair: tuple[uuid.UUID, uuid.UUID]) -> None:
        old = self.grants.pop(pair, None)
        if old is not None:
            for scope in old.scopes:
                self.links.delete_link(report_object(pair[0], scope), org_subject(pair[1]))

    def in_force(self, obj: str, sub: str) -> bool:
        """The matcher's in_force(r.obj, r.sub): the linked grant has not expired."""
        try:
            factory_id = uuid.UUID(obj.split(":")[1])
            buyer_id = uuid.UUID(sub.split(":", 1)[1])
        except (IndexError, ValueError):
            return False
        grant = self.grants.get((factory_id, buyer_id))
        return grant is not None and grant.in_force(datetime.now(UTC))

    def consented_to(self, buyer_id: uuid.UUID, now: datetime) -> Mapping[uuid.UUID, Grant]:
        """Every factory with a grant in force to this buyer, read from the g2 links (again
        only if the buyer's grants changed or one of them has lapsed since the last read)."""
        version = self._versions.get(buyer_id, 0)
        known = self._consented.get(buyer_id)
        if (
            known is not None
            and known.version == version
            and (known.next_expiry is None or now < known.next_expiry)
        ):
            return known.grants
        found: dict[uuid.UUID, Grant] = {}
        for name in self.links.users_of(org_subject(buyer_id)):
            factory_id = uuid.UUID(name.split(":")[1])
            grant = self.grants.get((factory_id, buyer_id))
            if grant is not None and grant.in_force(now):
                found[factory_id] = grant
        expiries = [g.expires_at for g in found.values() if g.expires_at is not None]
        self._consented[buyer_id] = _Consented(version, min(expiries, default=None), found)
        return found

    def next_expiry(self, buyer_id: uuid.UUID) -> datetime | None:
        """When the first grant of the last consented map read for this buyer lapses."""
        known = self._consented.get(buyer_id)
        return known.next_expiry if known is not None else None
