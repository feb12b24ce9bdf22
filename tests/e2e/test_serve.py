"""`hub serve --workers 2` as an operator runs it: real processes, real HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
from sqlalchemy.ext.asyncio import AsyncSession

from hub.directory.models import Role
from hub.directory.service import DirectoryService
from tests.helpers import make_org


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_serve_with_two_workers(
    database_url: str, key_file: Path, session: AsyncSession
) -> None:
    org, _ = await make_org(session, Role.BUYER, "Served Buyer")
    issued = await DirectoryService(session).create_client(org.id)
    await session.commit()

    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "HUB_SIGNING_KEY_FILE": str(key_file)}
    proc = subprocess.Popen(  # noqa: ASYNC220 (a server for the whole test, not awaited)
        [sys.executable, "-m", "hub", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5) as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "hub serve did not become ready"
                await asyncio.sleep(0.2)
            workers = [
                c for c in psutil.Process(proc.pid).children(recursive=True) if "python" in c.name()
            ]
            assert len(workers) >= 2

            token = await http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(issued.client.client_id, issued.secret),
            )
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            for _ in range(6):  # spread over both workers
                body = (
                    await http.post(
                        "/graphql",
                        json={"query": "{ viewer { organization { name } } }"},
                        headers=headers,
                    )
                ).json()
                assert body == {"data": {"viewer": {"organization": {"name": "Served Buyer"}}}}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
