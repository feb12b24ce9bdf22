from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def test_healthz(http) -> None:
    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_when_migrated(http) -> None:
    response = await http.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


async def test_readyz_refuses_a_database_behind_the_code(http, session: AsyncSession) -> None:
    await session.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    await session.commit()
    response = await http.get("/readyz")
    assert response.status_code == 503
    assert "older" in response.json()["database"]
