"""All SQL of the disclosure log (append-only: rows are inserted, never changed)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

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
# the digest's barrier (the migration "disclosures settled")
_SETTLED = text("SELECT disclosures_settled(:key)")
# The lines of hub.ledger.digests.encode, built in SQL and hashed there (SHA-256 over the lines
# in id order): [id,at,requestId,buyer,factory,assessment,scope,consentLedgerSeq] with compact
# separators, times in UTC with microseconds. PostgreSQL escapes strings as Python's json does
# except for non-ASCII and DEL, hence the flag. tests/ledger/test_digest_in_sql.py
# holds the two equal.
_DIGEST = text(r"""
SELECT count(*), max(id), bool_and(request_id ~ '^[\x01-\x7e]*$'),
       encode(sha256(convert_to(string_agg(line, '' ORDER BY id), 'UTF8')), 'hex')
FROM (SELECT id, request_id,
             '[' || id
             || ',' || to_json(to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'))
             || ',' || to_json(request_id)
             || ',"' || buyer_org_id || '","' || factory_id || '","' || assessment_id || '"'
             || ',' || to_json(scope) || ',' || consent_ledger_seq || ']' || chr(10) AS line
      FROM disclosures WHERE id > :after AND id <= :up_to ORDER BY id LIMIT :limit) AS rows
""")


@dataclass(frozen=True, slots=True)
class DigestedRows:
    count: int
    last_id: int
    digest: str  # hex SHA-256


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

    async def settled_up_to(self) -> int:
        """The highest disclosure id below which every row is final (the function
        disclosures_settled: it waits until every answer disclosing now has ended). Run on a
        connection of its own in autocommit, so the exclusive digest lock, which every
        disclosing answer queues behind, is held for that one statement and not for the rest of
        the digest's transaction."""
        engine = self.session.bind
        assert isinstance(engine, AsyncEngine)
        async with engine.connect() as connection:
            alone = await connection.execution_options(isolation_level="AUTOCOMMIT")
            settled = await alone.scalar(_SETTLED, {"key": DIGEST_LOCK_KEY})
        return int(settled)

    async def any_after(self, row_id: int) -> bool:
        query = select(Disclosure.id).where(Disclosure.id > row_id).limit(1)
        return (await self.session.execute(query)).first() is not None

    async def digest_in_sql(self, row_id: int, up_to: int, limit: int) -> DigestedRows | None:
        """The digest of up to ``limit`` rows after ``row_id`` up to ``up_to``, computed by
        PostgreSQL: no row crosses the wire and the worker's event loop is not held while
        50,000 of them are encoded and hashed (that was the p99 of answers writing many
        disclosure rows). None when a request id holds non-ASCII or DEL: Python's JSON escapes
        non-ASCII and DEL and PostgreSQL's does not, so the caller reads such rows itself."""
        found = (
            await self.session.execute(_DIGEST, {"after": row_id, "up_to": up_to, "limit": limit})
        ).one()
        count, last_id, ascii_only, digest = found
        if not count:
            return DigestedRows(0, row_id, digests.EMPTY)
        if not ascii_only:
            return None
        return DigestedRows(int(count), int(last_id), str(digest))

    async def records_after(
        self, row_id: int, up_to: int, limit: int
    ) -> list[tuple[int, digests.Record]]:
        """Rows (id, digest record) after ``row_id`` up to ``up_to``, without ORM objects (a
        digest reads up to 50,000)."""
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
            .where(Disclosure.id > row_id, Disclosure.id <= up_to)
            .order_by(Disclosure.id)
            .limit(limit)
        )
        return [(row[0], digests.record(*row)) for row in await self.session.execute(query)]

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
