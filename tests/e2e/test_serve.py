"""`hub serve --workers 2` as an operator runs it: real processes, real HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx
import psutil
from sqlalchemy.ext.asyncio import AsyncSession

from hub.directory.models import Role
from hub.directory.service import DirectoryService
from tests.e2e.servers import hub_server
from tests.helpers import fetch_token, make_org


async def test_serve_with_two_workers(
    database_url: str, key_file: Path, session: AsyncSession, tmp_path: Path
) -> None:
    org, _ = await make_org(session, Role.BUYER, "Served Buyer")
    issued = await DirectoryService(session).create_client(org.id)
    await session.commit()

    async with (
        hub_server(database_url, key_file, workers=2, log_file=tmp_path / "log") as (base, proc),
        httpx.AsyncClient(base_url=base, timeout=5) as http,
    ):
        workers = [
            c for c in psutil.Process(proc.pid).children(recursive=True) if "python" in c.name()
        ]
        assert len(workers) >= 2
        token = await fetch_token(http, issued.client.client_id, issued.secret)
        headers = {"Authorization": f"Bearer {token}"}
        for _ in range(6):  # spread over both workers
            response = await http.post(
                "/graphql", json={"query": "{ viewer { organization { name } } }"}, headers=headers
            )
            assert response.json() == {
                "data": {"viewer": {"organization": {"name": "Served Buyer"}}}
            }
    assert proc.returncode == 0, (tmp_path / "log").read_text()
