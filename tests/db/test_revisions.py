"""The data revision: every table but the untracked moves it, once per transaction, at commit,
whoever writes; the ledger's digests of the disclosure log do not."""

from __future__ import annotations

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.revisions import UNTRACKED, read_revisions
from hub.ledger.service import LedgerService
from tests.conftest import _libpq


async def test_every_table_but_the_untracked_bumps_the_revision(database_url: str) -> None:
    conn = await asyncpg.connect(_libpq(database_url))
    try:
        tables = {
            r[0]
            for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
        triggered = {
            r[0]
            for r in await conn.fetch(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname = c.relname || '_data_revision' AND t.tgdeferrable "
                "AND t.tginitdeferred"
            )
        }
    finally:
        await conn.close()
    # a migration that adds a table must run track_data_revision('<table>')
    assert triggered == tables - UNTRACKED


async def test_a_write_outside_the_api_moves_it_once_and_only_when_committed(
    database_url: str, session: AsyncSession
) -> None:
    before = await read_revisions(session)
    await session.rollback()
    conn = await asyncpg.connect(_libpq(database_url))
    try:
        async with conn.transaction():
            for name in ("Written by hand", "And another"):
                await conn.execute(
                    "INSERT INTO organizations (id, name, role) "
                    "VALUES (gen_random_uuid(), $1, 'BUYER')",
                    name,
                )
            await conn.execute("UPDATE organizations SET name = 'Renamed'")
            # not yet committed: another transaction still sees the old revision
            assert (await read_revisions(session)).data == before.data
            await session.rollback()
        after = await read_revisions(session)
        await session.rollback()
        await conn.execute("DELETE FROM organizations WHERE name = 'Renamed'")
        deleted = await read_revisions(session)
        await session.rollback()
        try:
            async with conn.transaction():
                await conn.execute("UPDATE organizations SET name = 'Rolled back'")
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    finally:
        await conn.close()
    assert after.data == before.data + 1  # three statements, one transaction: one bump
    assert deleted.data == after.data + 1
    assert (await read_revisions(session)).data == deleted.data  # the rollback left no trace


async def test_a_digest_of_the_disclosure_log_leaves_it_alone(
    database_url: str, session: AsyncSession
) -> None:
    conn = await asyncpg.connect(_libpq(database_url))
    try:
        buyer = await conn.fetchval(
            "INSERT INTO organizations (id, name, role) VALUES (gen_random_uuid(), 'B', 'BUYER') "
            "RETURNING id"
        )
        await conn.execute(
            "INSERT INTO disclosures (at, request_id, buyer_org_id, factory_id, assessment_id, "
            "scope, consent_ledger_seq) VALUES (now(), 'r1', $1, gen_random_uuid(), "
            "gen_random_uuid(), 'SUMMARY', 0)",
            buyer,
        )
    finally:
        await conn.close()
    before = await read_revisions(session)
    made = await LedgerService(session).digest_disclosures()
    await session.commit()
    after = await read_revisions(session)
    assert made is not None
    assert after.ledger_head == before.ledger_head + 1
    assert after.data == before.data
