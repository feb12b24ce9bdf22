"""A digest of the disclosure log never misses a row that commits late, and holds the lock
every disclosing answer waits on for one statement only, never while it reads or appends."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import asyncpg
from asgi_lifespan import LifespanManager
from sqlalchemy.ext.asyncio import AsyncSession

from hub.app import create_app
from hub.disclosures.repository import DIGEST_LOCK_KEY
from hub.ledger import digests, tasks
from hub.ledger.events import LEAF_TYPE_LINE
from hub.ledger.repository import INTEGRATOR_LOCK_KEY
from hub.ledger.service import LedgerService
from tests.conftest import _libpq, make_settings

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
        assert not digest.done()  # its barrier waits for the disclosing answer to end
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


async def test_the_digest_lock_is_free_while_the_digest_reads_and_appends(
    database_url: str, session: AsyncSession
) -> None:
    writer = await asyncpg.connect(_libpq(database_url))
    try:
        written = [await writer.fetchval(INSERT, f"r{i}", uuid.uuid4()) for i in range(3)]
        made = await LedgerService(session).digest_disclosures()
        assert made is not None
        assert (made.to_id, made.count) == (written[-1], 3)
        # the digest's transaction is still open: an answer disclosing now is not held up by it
        async with writer.transaction():
            free = await writer.fetchval(
                "SELECT pg_try_advisory_xact_lock_shared($1)", DIGEST_LOCK_KEY
            )
        await session.commit()
    finally:
        await writer.close()
    assert free


async def test_one_process_digests_at_a_time(database_url: str, session: AsyncSession) -> None:
    other = await asyncpg.connect(_libpq(database_url))
    try:
        await other.fetchval(INSERT, "r", uuid.uuid4())
        async with other.transaction():
            # another process's integrator is digesting or signing
            await other.execute("SELECT pg_advisory_xact_lock($1)", INTEGRATOR_LOCK_KEY)
            assert await LedgerService(session).digest_disclosures() is None
        await session.rollback()
        assert await LedgerService(session).digest_disclosures() is not None
    finally:
        await other.close()


async def test_a_pass_digests_until_it_has_caught_up(database_url: str, key_file: Path) -> None:
    # more rows than one digest takes (as under sustained load): one pass digests them all
    # no background integrator of its own: this pass is the only one
    app = create_app(make_settings(database_url, key_file, HUB_BACKGROUND="off"))
    writer = await asyncpg.connect(_libpq(database_url))
    try:
        written = [await writer.fetchval(INSERT, f"r{i}", uuid.uuid4()) for i in range(12)]
        async with LifespanManager(app):
            settings = app.state.settings
            await tasks.integrate_once(
                app.state.sessions, app.state.ledger_key, settings.ledger_origin, digest_rows=5
            )
        leaves = await writer.fetch(
            "SELECT leaf FROM consent_log WHERE event_type = 'DISCLOSURE_DIGEST' ORDER BY seq"
        )
    finally:
        await writer.close()
    made = [json.loads(bytes(row["leaf"])[len(LEAF_TYPE_LINE) :]) for row in leaves]
    assert [d["count"] for d in made] == [5, 5, 2]
    assert made[-1]["toId"] == written[-1]
    assert [d["fromId"] for d in made[1:]] == [d["toId"] for d in made[:-1]]
