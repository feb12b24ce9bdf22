"""All SQL of the disclosure log (append-only: rows are inserted, never changed)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.paging import Page, keyset_page
from hub.disclosures.models import Disclosure
from hub.ledger import digests

if TYPE_CHECKING:
    from hub.disclosures.recorder import Disclosed


DIGEST_LOCK_KEY = 0x4348444947455354  # "CHDIGEST"

# built once: it runs for every answer that discloses (the function: the migration
# "disclose in one statement")
_DISCLOSE = text(
    "SELECT disclose(:buyer, :request_id, CAST(:factories AS uuid[]),"
    " CAST(:assessments AS uuid[]), CAST(:scopes AS text[]), :key)"
)
# the same call for the driver itself (a kept answer, hub.graphql.reuse), arguments from
# disclose_args; alone in its implicit transaction it commits as it ends, its locks held until
# then, which is all the check needs
DISCLOSE_ON_DRIVER = "SELECT disclose($1, $2, $3::uuid[], $4::uuid[], $5::text[], $6)"


def disclose_args(
    request_id: str, buyer_id: uuid.UUID, items: Sequence[Disclosed]
) -> tuple[object, ...]:
    return (
        buyer_id,
        request_id,
        [item.factory_id for item in items],
        [item.assessment_id for item in items],
        [item.scope for item in items],
        DIGEST_LOCK_KEY,
    )


class DisclosureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def disclose(
        self, request_id: str, buyer_id: uuid.UUID, items: Sequence[Disclosed]
    ) -> bool:
        """Share-lock the consent rows the items rely on, take the digest lock, read the clock,
        and write one row per item if every item's consent is in force and in scope at that
        clock; else write nothing. True when written. One round trip; the rows travel as
        arrays, so the statement is the same text every time."""
        names = ("buyer", "request_id", "factories", "assessments", "scopes", "key")
        args = disclose_args(request_id, buyer_id, items)
        written = await self.session.scalar(_DISCLOSE, dict(zip(names, args, strict=True)))
        return bool(written == len(items))

    async def page(
        self,
        *,
        factory_id: uuid.UUID | None,
        buyer_id: uuid.UUID | None,
        since: datetime | None,
        until: datetime | None,
        first: int,
        after: str | None,
    ) -> Page[Disclosure]:
        query: Select[Any] = select(Disclosure)
        if factory_id is not None:
            query = query.where(Disclosure.factory_id == factory_id)
        if buyer_id is not None:
            query = query.where(Disclosure.buyer_org_id == buyer_id)
        if since is not None:
            query = query.where(Disclosure.at >= since)
        if until is not None:
            query = query.where(Disclosure.at < until)
        return await keyset_page(self.session, query.order_by(Disclosure.id), first, after)

    # Disclosure writers hold this lock shared; the digest writer holds it exclusively, so
    # when it reads "every row up to id N" no transaction can still commit a smaller id.
    async def hold_for_digest(self) -> None:
        await self.session.execute(select(func.pg_advisory_xact_lock(DIGEST_LOCK_KEY)))

    async def records_after(self, row_id: int, limit: int) -> list[tuple[int, digests.Record]]:
        """Rows (id, digest record), without ORM objects (a digest reads up to 50,000)."""
        query = (
            select(
                Disclosure.id,
                Disclosure.at,
                Disclosure.request_id,
                Disclosure.buyer_org_id,
                Disclosure.factory_id,
                Disclosure.assessment_id,
                Disclosure.scope,
                Disclosure.consent_ledger_seq,
            )
            .where(Disclosure.id > row_id)
            .order_by(Disclosure.id)
            .limit(limit)
        )
        return [(row[0], digests.record(*row)) for row in await self.session.execute(query)]

    async def count_between(self, after: int, upto: int) -> int:
        query = select(func.count()).where(Disclosure.id > after, Disclosure.id <= upto)
        return int((await self.session.execute(query)).scalar_one())

    async def after(self, row_id: int, limit: int) -> Sequence[Disclosure]:
        query = (
            select(Disclosure).where(Disclosure.id > row_id).order_by(Disclosure.id).limit(limit)
        )
        return (await self.session.execute(query)).scalars().all()

    async def stream(self, chunk: int = 10_000) -> AsyncIterator[Sequence[Disclosure]]:
        last = 0
        while rows := await self.after(last, chunk):
            yield rows
            last = rows[-1].id
            self.session.expunge_all()
