"""Which rows about (factory, buyer) pairs a caller may list: everything (auditors, admins),
or only the pairs it is a party to (a buyer its own, a factory its own factory's)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from hub.authz.service import RequestAuthz
from hub.directory.models import Role
from hub.directory.repository import DirectoryRepository
from hub.errors import Forbidden


@dataclass(frozen=True)
class PartyFilter:
    factory_id: uuid.UUID | None
    buyer_id: uuid.UUID | None


async def party_filter(
    session: AsyncSession,
    authz: RequestAuthz,
    kind: str,
    factory_id: uuid.UUID | None,
    buyer_id: uuid.UUID | None,
) -> PartyFilter | None:
    """The caller's filter narrowed to what it may list; None when that is nothing at all.
    Forbidden for a role that lists none of this kind."""
    if authz.may("list", kind):
        return PartyFilter(factory_id, buyer_id)
    principal = authz.principal
    if not authz.may("list", kind, principal.org_id):
        raise Forbidden(f"your role does not list {kind}s")
    if principal.role is Role.BUYER:
        if buyer_id not in (None, principal.org_id):
            return None
        return PartyFilter(factory_id, principal.org_id)
    own = await DirectoryRepository(session).factory_claimed_by(principal.org_id)
    if own is None or factory_id not in (None, own.id):
        return None
    return PartyFilter(own.id, buyer_id)
