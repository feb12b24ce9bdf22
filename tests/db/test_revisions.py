"""Data revisions: every table but the disclosure log moves them, whoever writes."""

from __future__ import annotations

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.revisions import UNTRACKED, read_revisions
from tests.conftest import _libpq


async def test_every_table_but_the_untracked_bumps_its_revision(database_url: str) -> None:
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
                "WHERE t.tgname = c.relname || '_data_revision' AND t.tgenabled = 'A'"
            )
        }
    finally:
        await conn.close()
    # a migration that adds a table must run track_data_revision('<table>')
    assert triggered == tables - UNTRACKED


async def test_a_write_outside_the_api_moves_the_revision(
    database_url: str, session: AsyncSession
) -> None:
    before = await read_revisions(session)
    await session.rollback()
    conn = await asyncpg.connect(_libpq(database_url))
    try:
        await conn.execute(
            "INSERT INTO organizations (id, name, role) "
            "VALUES (gen_random_uuid(), 'Written by hand', 'BUYER')"
        )
        after_insert = await read_revisions(session)
        await session.rollback()
        async with conn.transaction():
            await conn.execute("UPDATE organizations SET name = 'Renamed'")
            # not yet committed: another transaction still sees the old revision
            assert (await read_revisions(session)).data == after_insert.data
            await session.rollback()
    finally:
        await conn.close()
    after_update = await read_revisions(session)
    assert before.data < after_insert.data < after_update.data
    assert before.ledger_head == after_update.ledger_head
