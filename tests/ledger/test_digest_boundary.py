"""A digest of the disclosure log never misses a row that commits late, and does its reading
before it holds the lock every disclosing answer waits on."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from hub.disclosures.repository import DIGEST_LOCK_KEY
from hub.ledger import digests
from hub.ledger.service import LedgerService
from tests.conftest import _libpq

INSERT = (
    "INSERT INTO disclosures (at, request_id, buyer_org_id, factory_id, assessment_id, scope, "
    "consent_ledger_seq) VALUES (now(), $1, $2, gen_random_uuid(), gen_random_uuid(), "
    "'SUMMARY', 0) RETURNING id"
)
ROWS = (
    "SELECT id, at, request_id, buyer_org_id, factory_id, assessment_id, scope, "
    "consent_ledger_seq FROM disclosures ORDER BY id"
)


async def test_a_row_that_commits_after_the_digest_began_reading_is_in_it(
    database_url: str, session: AsyncSession
) -> None:
    buyer = uuid.uuid4()
    late = await asyncpg.connect(_libpq(database_url))
    other = await asyncpg.connect(_libpq(database_url))
    try:
        # an answer disclosing: it holds the digest lock shared and its row is not committed
        tx = late.transaction()
        await tx.start()
        await late.execute("SELECT pg_advisory_xact_lock_shared($1)", DIGEST_LOCK_KEY)
        late_id = await late.fetchval(INSERT, "late", buyer)
        later_id = await other.fetchval(INSERT, "committed", buyer)  # a higher id, committed
        assert late_id < later_id

        digest = asyncio.create_task(LedgerService(session).digest_disclosures())
        await asyncio.sleep(0.5)
        assert not digest.done()  # it read one row, and now waits for the disclosing answer
        await tx.commit()
        made = await asyncio.wait_for(digest, 10)
        await session.commit()

        rows = await other.fetch(ROWS)
    finally:
        await late.close()
        await other.close()
    assert made is not None
    assert (made.from_id, made.to_id, made.count) == (0, later_id, 2)
    assert made.digest == digests.digest([digests.record(*row) for row in rows])


async def test_nothing_to_digest_takes_no_lock(database_url: str, session: AsyncSession) -> None:
    holder = await asyncpg.connect(_libpq(database_url))
    try:
        async with holder.transaction():
            await holder.execute("SELECT pg_advisory_xact_lock_shared($1)", DIGEST_LOCK_KEY)
            made = await asyncio.wait_for(LedgerService(session).digest_disclosures(), 5)
    finally:
        await holder.close()
    assert made is None
