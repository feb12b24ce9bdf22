"""The commit-time disclosure check (the database function `disclose`): every row of an answer
is written, under the consent rows' share locks, or none is."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.directory.models import Role
from hub.disclosures.recorder import Disclosed
from hub.disclosures.repository import DisclosureRepository
from tests.helpers import Actors, grant, make_actor, make_published_assessment, revoke


async def _rows(session: AsyncSession, request_id: str) -> list[tuple[object, ...]]:
    found = await session.execute(
        text(
            "SELECT factory_id, assessment_id, scope, consent_ledger_seq, at FROM disclosures"
            " WHERE request_id = :r ORDER BY id"
        ),
        {"r": request_id},
    )
    return [tuple(row) for row in found]


async def test_every_row_or_none(
    http: httpx.AsyncClient, actors: Actors, session: AsyncSession
) -> None:
    factory = actors[Role.FACTORY].factory
    assert factory is not None
    assessment = uuid.UUID(await make_published_assessment(http, actors[Role.ASSESSOR], factory))
    buyer = actors[Role.BUYER]
    consent = await grant(http, actors[Role.FACTORY], buyer, ["SUMMARY"])
    stranger = await make_actor(session, http, Role.BUYER)
    log = DisclosureRepository(session)
    summary = Disclosed(factory.id, assessment, "SUMMARY")
    findings = Disclosed(factory.id, assessment, "FINDINGS")

    # one item out of scope: nothing of the answer is written, not even the item in scope
    assert not await log.disclose("beyond-scope", buyer.org.id, [summary, findings])
    assert await _rows(session, "beyond-scope") == []
    # a buyer without any consent of this factory
    assert not await log.disclose("stranger", stranger.org.id, [summary])
    assert await _rows(session, "stranger") == []

    assert await log.disclose("within", buyer.org.id, [summary])
    [(factory_id, assessment_id, scope, seq, at)] = await _rows(session, "within")
    assert (factory_id, assessment_id, scope, seq) == (
        factory.id,
        assessment,
        "SUMMARY",
        consent["ledgerSeq"],
    )
    granted_at = (
        await session.execute(text("SELECT at FROM consent_log WHERE seq = :s"), {"s": seq})
    ).scalar_one()
    assert at >= granted_at
    await session.commit()

    await revoke(http, actors[Role.FACTORY], consent["id"])
    assert not await log.disclose("after-revocation", buyer.org.id, [summary])
    assert await _rows(session, "after-revocation") == []
    await session.rollback()


async def test_rows_keep_the_order_they_were_given(
    http: httpx.AsyncClient, actors: Actors, session: AsyncSession
) -> None:
    factory = actors[Role.FACTORY].factory
    assert factory is not None
    older = uuid.UUID(
        await make_published_assessment(http, actors[Role.ASSESSOR], factory, cycle="2025-1")
    )
    newer = uuid.UUID(await make_published_assessment(http, actors[Role.ASSESSOR], factory))
    buyer = actors[Role.BUYER]
    await grant(http, actors[Role.FACTORY], buyer, ["SUMMARY", "FINDINGS"])
    items = [
        Disclosed(factory.id, newer, "SUMMARY"),
        Disclosed(factory.id, older, "FINDINGS"),
        Disclosed(factory.id, older, "SUMMARY"),
    ]
    assert await DisclosureRepository(session).disclose("ordered", buyer.org.id, items)
    rows = await _rows(session, "ordered")
    assert [(a, s) for _, a, s, _, _ in rows] == [(i.assessment_id, i.scope) for i in items]
    assert len({at for *_, at in rows}) == 1  # one clock for the whole answer
    await session.rollback()
