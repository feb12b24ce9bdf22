"""Real `hub serve` processes for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
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
    database_url: str,
    key_file: Path,
    workers: int = 1,
    log_file: Path | None = None,
    measured: bool = True,
    **env: str,
) -> AsyncIterator[tuple[str, subprocess.Popen[str]]]:
    """A server until the block ends. Its log goes to ``log_file`` (a pipe nobody reads would
    fill up with access lines and stall the server). ``measured=False`` keeps coverage out of
    it: a server killed with SIGKILL never writes its coverage data, so measuring it only
    slows it down."""
    port = free_port()
    log = log_file or Path(tempfile.mkstemp(prefix="hub-serve-", suffix=".log")[1])
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HUB_SIGNING_KEY_FILE": str(key_file),
        # the same key files as the tests' in-process apps (tests.conftest.make_settings)
        "HUB_LEDGER_KEY_FILE": str(key_file.with_name("ledger-ed25519.pem")),
        "HUB_DATA_DIR": str(key_file.parent),
        **env,
    }
    if not measured:
        environment.pop("COVERAGE_PROCESS_CONFIG", None)
    with log.open("w") as sink:
        proc = subprocess.Popen(  # noqa: ASYNC220 (a server for the whole test, not awaited)
            [sys.executable, "-m", "hub", "serve", "--port", str(port), "--workers", str(workers)],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=sink,
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
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "hub serve did not become ready"
                await asyncio.sleep(0.2)
        yield base, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log_file is None:
            log.unlink(missing_ok=True)
