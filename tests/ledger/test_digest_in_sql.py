"""The disclosure digest computed by PostgreSQL must be the very digest hub.ledger.digests
computes (which the offline verifier recomputes from exported rows); rows it cannot encode the
same way are read and hashed in Python instead."""

from __future__ import annotations

import uuid

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from hub.disclosures.repository import DisclosureRepository
from hub.ledger import digests
from hub.ledger.service import LedgerService
from tests.conftest import _libpq

INSERT = (
    "INSERT INTO disclosures (at, request_id, buyer_org_id, factory_id, assessment_id, scope, "
    "consent_ledger_seq) VALUES ($1::text::timestamptz, $2, $3, $4, $5, $6, $7) RETURNING id"
)
ROWS = (
    "SELECT id, at, request_id, buyer_org_id, factory_id, assessment_id, scope, "
    "consent_ledger_seq FROM disclosures WHERE id > $1 ORDER BY id"
)
PLAIN = [
    # whole seconds (the microseconds are still written), another zone, a late date, a token
    # with every character a request id may carry, quotes and backslashes, control characters
    ("2026-12-04 10:00:00+00", "hub-00000000000000000001"),
    ("2026-12-04 10:00:00.000001+07", "Ab0._:-"),
    ("2099-01-31 23:59:59.999999-03:30", 'say "hi" \\ back'),
    ("2026-12-04 10:00:00.5+00", "tab\tnew\nline\x01\x1f"),
]


async def _insert(conn: asyncpg.Connection, at: str, request_id: str, scope: str) -> int:
    row_id: int = await conn.fetchval(
        INSERT, at, request_id, uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), scope, 12345678901
    )
    return row_id


async def _python_digest(conn: asyncpg.Connection, after: int) -> tuple[int, int, str]:
    rows = await conn.fetch(ROWS, after)
    return len(rows), rows[-1]["id"], digests.digest([digests.record(*row) for row in rows])


async def test_the_sql_digest_is_the_python_digest(
    database_url: str, session: AsyncSession
) -> None:
    conn = await asyncpg.connect(_libpq(database_url))
    try:
        for i, (at, request_id) in enumerate(PLAIN):
            await _insert(conn, at, request_id, ("SUMMARY", "FINDINGS", "IMPROVEMENT_PLAN")[i % 3])
        expected = await _python_digest(conn, 0)
    finally:
        await conn.close()
    log = DisclosureRepository(session)
    found = await log.digest_in_sql(0, 10**12, 1_000)
    assert found is not None
    assert (found.count, found.last_id, found.digest) == expected
    limited = await log.digest_in_sql(0, 10**12, 2)
    assert limited is not None
    assert limited.count == 2
    empty = await log.digest_in_sql(expected[1], 10**12, 1_000)
    assert empty is not None
    assert (empty.count, empty.last_id, empty.digest) == (0, expected[1], digests.EMPTY)


async def test_rows_sql_cannot_encode_alike_are_digested_in_python(
    database_url: str, session: AsyncSession
) -> None:
    conn = await asyncpg.connect(_libpq(database_url))
    try:
        await _insert(conn, "2026-12-04 10:00:00+00", "plain", "SUMMARY")
        await _insert(conn, "2026-12-04 10:00:01+00", "café ✓ \x7f", "SUMMARY")
        expected = await _python_digest(conn, 0)
    finally:
        await conn.close()
    assert await DisclosureRepository(session).digest_in_sql(0, 10**12, 1_000) is None
    made = await LedgerService(session).digest_disclosures()
    assert made is not None
    assert (made.count, made.to_id, made.digest) == expected
