"""The database's own faults, told apart from bugs: unreachable (a restart, a failover, the
network), read-only (a standby, maintenance) and out of space. Each becomes an answer a client can
act on - what happened, that nothing was saved, when to retry (HTTP 503 with Retry-After) -
instead of the masked "internal server error" of a bug, and one log line for operators instead
of a traceback per request while it lasts."""

from __future__ import annotations

from typing import Literal

import asyncpg
from sqlalchemy.exc import DBAPIError
from starlette.responses import Response

from hub.errors import HubError

Kind = Literal["unavailable", "read_only", "disk_full"]

# SQLSTATEs: connection exceptions (08), operator intervention (57P01-57P03: shutdown, crash,
# starting up), read-only transaction (25006), insufficient resources (53100 disk full; the
# rest of 53 - memory, connections - pass like an outage)
_UNAVAILABLE = frozenset({"08000", "08001", "08003", "08004", "08006", "57P01", "57P02", "57P03"})

_ANSWERS: dict[Kind, tuple[str, int]] = {
    "unavailable": (
        "The database cannot be reached right now, so nothing was read or saved. "
        "Try again in a few seconds.",
        5,
    ),
    "read_only": (
        "The database accepts no changes right now (it is read-only for maintenance or a "
        "failover), so nothing was saved - nor a report shown, since every disclosure is "
        "recorded. Lists and statuses can still be read; try again later.",
        30,
    ),
    "disk_full": (
        "The database has run out of storage space, so nothing was saved. "
        "Try again later; the operators have been told.",
        60,
    ),
}


class DatabaseFault(HubError):
    """Answered with INTERNAL_SERVER_ERROR (the code of API.md for "not your fault"), its
    ``reason`` and ``retryAfter`` in the extensions, and HTTP 503."""

    def __init__(self, kind: Kind) -> None:
        message, retry_after = _ANSWERS[kind]
        super().__init__(message, reason=kind, retryAfter=retry_after)
        self.kind: Kind = kind
        self.retry_after = retry_after


def database_fault(exc: BaseException | None) -> DatabaseFault | None:
    """The fault behind ``exc`` (anywhere in its chain), or None for anything else."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, DatabaseFault):
            return exc
        kind = _kind(exc)
        if kind is not None:
            return DatabaseFault(kind)
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return DatabaseFault("unavailable")
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return None


def _kind(exc: BaseException) -> Kind | None:
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str):
        if sqlstate == "25006":
            return "read_only"
        if sqlstate == "53100":
            return "disk_full"
        if sqlstate in _UNAVAILABLE or sqlstate.startswith("53"):  # too many connections, memory
            return "unavailable"
        return None
    # no SQLSTATE: the connection itself failed (refused, reset, closed under us)
    if isinstance(exc, ConnectionError | asyncpg.ConnectionDoesNotExistError):
        return "unavailable"
    if isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc):
        return "unavailable"
    if isinstance(exc, OSError) and not isinstance(exc, TimeoutError):
        return "unavailable"  # e.g. the server's Unix socket is gone while it restarts
    return None


def answer_as_unavailable(response: object, fault: DatabaseFault) -> None:
    """HTTP 503 with Retry-After on the answer being built (strawberry's sub-response), if any."""
    if isinstance(response, Response):
        response.status_code = 503
        response.headers["retry-after"] = str(fault.retry_after)
