"""Real `hub serve` processes for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def hub_server(
    database_url: str, key_file: Path, workers: int = 1, **env: str
) -> AsyncIterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HUB_SIGNING_KEY_FILE": str(key_file),
        **env,
    }
    proc = subprocess.Popen(  # noqa: ASYNC220 (a server for the whole test, not awaited)
        [sys.executable, "-m", "hub", "serve", "--port", str(port), "--workers", str(workers)],
        env=environment,
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
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "hub serve did not become ready"
                await asyncio.sleep(0.2)
        yield base, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
