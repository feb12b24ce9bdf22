"""Key files beside the database, never in it: created once (mode 0600), then only read.

Several processes may start at once on a fresh data folder (`hub serve --workers 2`): the first
to link its file in place wins and the others read that one, so no process ever keeps a key
that is not the one on disk.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable
from pathlib import Path


def write_private(path: Path, content: bytes) -> None:
    """Replace the file's content atomically, readable by its owner only."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(content)
    os.replace(tmp, path)


def load_or_create(path: Path, make: Callable[[], bytes]) -> bytes:
    """The file's content; on first use, ``make()``'s, written by exactly one process."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(make())
        try:
            os.link(tmp, path)  # fails if another process got there first: use theirs
        except FileExistsError:
            pass
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    return path.read_bytes()
