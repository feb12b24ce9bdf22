"""The ledger in the database: concurrent appends stay gap-free, the stored tree gives the
roots and proofs the recursive definition gives, and the evidence tables keep their rights."""

from __future__ import annotations

import asyncio
import itertools
import uuid

import asyncpg
import pytest
from sqlalchemy import text

from hub.config import Settings
from hub.db.engine import build_engine, build_sessionmaker
from hub.ledger import merkle
from hub.ledger.events import EventType, NewEvent
from hub.ledger.repository import LedgerRepository
from hub.ledger.service import LedgerService
from tests.conftest import _libpq, make_settings


def _event() -> NewEvent:
    return NewEvent(
        EventType.REQUESTED, uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), ("SUMMARY",)
    )


# per writer: enough for thousands of lock hand-overs between eight writers (bench/ledger_bench.py
# measures the rate)
APPENDS = 200


async def test_eight_concurrent_writers(database_url: str, key_file) -> None:
    settings = make_settings(database_url, key_file, HUB_DB_POOL_SIZE=8)
    engine = build_engine(settings)
    sessions = build_sessionmaker(engine)

    async def writer() -> None:
        for _ in range(APPENDS):
            async with sessions() as session, session.begin():
                await LedgerRepository(session).append_batch([_event()])

    await asyncio.gather(*(writer() for _ in range(8)))
    async with sessions() as session:
        seqs = (
            (await session.execute(text("SELECT seq FROM consent_log ORDER BY seq")))
            .scalars()
            .all()
        )
        assert list(seqs) == list(range(8 * APPENDS))
        times = (
            (await session.execute(text("SELECT at FROM consent_log ORDER BY seq"))).scalars().all()
        )
        assert all(a <= b for a, b in itertools.pairwise(times))
        hashes = await LedgerRepository(session).leaf_hashes(0, 8 * APPENDS)
    async with sessions() as session, session.begin():
        service = LedgerService(session)
        await service.extend_tree(8 * APPENDS)
        assert await service.root(8 * APPENDS) == merkle.MemoryTree(hashes).root()
    await engine.dispose()


async def test_tree_grows_incrementally_and_proofs_match(settings: Settings) -> None:
    engine = build_engine(settings)
    sessions = build_sessionmaker(engine)
    memory = merkle.MemoryTree()
    for target in (1, 2, 5, 17, 64, 100):
        async with sessions() as session, session.begin():
            repo = LedgerRepository(session)
            for entry in await repo.append_batch([_event() for _ in range(target - memory.size)]):
                memory.append(entry.leaf_hash)
            await LedgerService(session).extend_tree(target)
        async with sessions() as session:
            service = LedgerService(session)
            assert await service.root(target) == memory.root()
            for size in {1, target // 2 or 1, target}:
                assert await service.root(size) == memory.root(size)
    async with sessions() as session:
        service = LedgerService(session)
        # proofs need a checkpoint; compare the raw range hashes instead
        for index in (0, 37, 99):
            ranges = merkle.inclusion_ranges(index, 100)
            found = await service.repo.tree_nodes(merkle.needed_nodes(ranges))
            path = [merkle.range_hash(lo, hi, found.__getitem__) for lo, hi in ranges]
            assert path == merkle.inclusion_proof(index, 100, memory.node)
    await engine.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE consent_log SET event_type = 'GRANTED'",
        "DELETE FROM consent_log",
        "UPDATE disclosures SET scope = 'SUMMARY'",
        "DELETE FROM ledger_tree",
        "DELETE FROM checkpoints",
    ],
)
async def test_the_application_role_may_only_read_and_append(
    settings: Settings, statement: str
) -> None:
    conn = await asyncpg.connect(_libpq(settings.database_url or ""))
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL ROLE compliance_hub_app")
            await conn.execute(
                "INSERT INTO consent_log (seq, event_id, event_type, at, leaf, leaf_hash) "
                "VALUES (0, $1, 'REQUESTED', now(), 'x', 'y')",
                uuid.uuid4(),
            )
            assert await conn.fetchval("SELECT count(*) FROM consent_log") == 1
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await conn.execute(statement)
    finally:
        await conn.close()
