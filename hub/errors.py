"""Expected failures. Each carries the ``extensions.code`` of API.md; anything else that escapes
a resolver is unexpected and is masked (hub.graphql.errors)."""

from __future__ import annotations

from typing import Any, ClassVar


class HubError(Exception):
    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions


class Unauthenticated(HubError):
    code = "UNAUTHENTICATED"


class Forbidden(HubError):
    code = "FORBIDDEN"


class NotFound(HubError):
    """Also the answer for an object the caller may not see at all: never hint it exists."""

    code = "NOT_FOUND"


class BadUserInput(HubError):
    code = "BAD_USER_INPUT"


class Conflict(HubError):
    code = "CONFLICT"


class QueryTooComplex(HubError):
    code = "QUERY_TOO_COMPLEX"


class RateLimited(HubError):
    code = "RATE_LIMITED"
