"""Grants and revocations of different factories at the same moment all land: no lock cycle
between the ledger lock, consent rows and the data revision (a bump at statement time once
deadlocked a grant against a revocation)."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from hub.directory.models import Role
from tests.helpers import Actor, Actors, grant, make_actor, revoke


async def test_concurrent_grants_and_revocations_all_succeed(
    http: httpx.AsyncClient, actors: Actors, session: AsyncSession
) -> None:
    factories: list[Actor] = [await make_actor(session, http, Role.FACTORY) for _ in range(8)]
    buyer = actors[Role.BUYER]

    async def grant_then_revoke(factory: Actor) -> str:
        granted = await grant(http, factory, buyer, ["SUMMARY", "FINDINGS"])
        revoked = await revoke(http, factory, granted["id"])
        return str(revoked["status"])

    for _ in range(3):  # rounds: revocations of one round overlap grants of the next
        statuses = await asyncio.wait_for(
            asyncio.gather(*(grant_then_revoke(f) for f in factories)), timeout=30
        )
        assert statuses == ["REVOKED"] * len(factories)
