"""Parsing ids from GraphQL arguments. A malformed id names nothing that exists: NOT_FOUND."""

from __future__ import annotations

import uuid

from hub.errors import NotFound


def parse_id(value: str, argument: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"no object with id {str(value)[:64]!r}", argument=argument) from None
