"""Structured logs: one JSON object per line (or a plain line for people at a terminal), each
carrying the id of the request it belongs to, and nothing secret.

What keeps secrets out, in layers: the hub never logs request bodies, variables, headers or
query strings (its access line has method, path, status, time, organisation and role only);
SQLAlchemy hides statement parameters (hub.db.engine); and every formatted line, tracebacks
included, passes through ``scrub`` before it is written, which masks anything shaped like a
bearer token, a webhook secret or a credential in a form or header, should a library's message
ever carry one.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
import uuid
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID: ContextVar[str | None] = ContextVar("hub_request_id", default=None)

# a client's own X-Request-Id is kept when it is a plain token (it ties our lines to theirs);
# anything else is replaced, so a header cannot forge log lines or smuggle data into them
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

_SECRETS = (
    # JWTs (and any JWS): three base64url parts, the first a JSON header
    re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    re.compile(r"whsec_[A-Za-z0-9+/=]+"),
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)(client_secret|password|secret|token)([\"']?\s*[=:]\s*[\"']?)[^\s&\"',}]+"),
)


def scrub(text: str) -> str:
    for pattern in _SECRETS:
        text = pattern.sub(_mask, text)
    return text


def _mask(match: re.Match[str]) -> str:
    if match.re.groups == 2:  # name=value: keep the name, say what was there
        return f"{match.group(1)}{match.group(2)}[redacted]"
    if match.re.groups == 1:
        return f"{match.group(1)} [redacted]"
    return "[redacted]"


# ids made here: a random prefix per process and a counter (no system call per request, and
# still unique across processes and restarts)
_PREFIX = uuid.uuid4().hex[:12]
_COUNTER = itertools.count(1)


def new_request_id(offered: str | None) -> str:
    if offered and _CLIENT_REQUEST_ID.fullmatch(offered):
        return offered
    return f"{_PREFIX}{next(_COUNTER):020d}"


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


class HubJsonFormatter(JsonFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class HubTextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return scrub(f"{line} [request {request_id}]" if request_id else line)


def log_config(fmt: str, level: str = "INFO") -> dict[str, Any]:
    """A logging.config dict for uvicorn (every worker applies it at start)."""
    if fmt == "json":
        formatter: dict[str, Any] = {
            "()": HubJsonFormatter,
            "fmt": "{asctime}{levelname}{name}{message}",
            "style": "{",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    else:
        formatter = {
            "()": HubTextFormatter,
            "fmt": "%(asctime)s %(levelname)s %(name)s: %(message)s",
        }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": _RequestId}},
        "formatters": {"hub": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "hub",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
        "loggers": {
            "hub": {"level": level},
            "uvicorn": {"level": level},
            # uvicorn's own access line carries the query string (a GET query, variables): ours
            # below has the path only
            "uvicorn.access": {"level": "WARNING", "propagate": False, "handlers": []},
        },
    }


access_log = logging.getLogger("hub.access")


class RequestLog:
    """Outermost middleware: gives each request its id (in logs, in the answer's
    ``x-request-id`` header, and in disclosure records) and writes one access line for it."""

    def __init__(self, app: ASGIApp, enabled: bool = True) -> None:
        self.app = app
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        offered = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                offered = value.decode("latin-1")
                break
        request_id = new_request_id(offered)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", ()),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.enabled:
                principal = state.get("principal")
                access_log.info(
                    "%s %s %s",
                    scope.get("method", "WS"),
                    scope["path"],
                    status or "-",
                    extra={
                        "method": scope.get("method", "WS"),
                        "path": scope["path"],
                        "status": status or None,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                        "org": str(principal.org_id) if principal else None,
                        "role": principal.role.value if principal else None,
                    },
                )
            REQUEST_ID.reset(token)
