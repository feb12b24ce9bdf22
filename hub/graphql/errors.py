"""Every error leaves with an ``extensions.code``; unexpected ones leave masked.

Expected failures are HubError subclasses raised by services. Errors graphql-core makes itself
(validation, parsing) are the client's fault: BAD_USER_INPUT, or QUERY_TOO_COMPLEX when a
document limit refused them. Anything else is a bug: logged with its traceback under the
request id, and answered as INTERNAL_SERVER_ERROR with that id and nothing more.
"""

from __future__ import annotations

import logging
import re

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from hub.db.faults import DatabaseFault, answer_as_unavailable, database_fault
from hub.errors import HubError

log = logging.getLogger("hub.graphql")

# What strawberry's depth and alias limiters and graphql-core's token and size limits say; they
# raise plain GraphQLErrors, so their messages are all there is to recognise them by (a test
# pins each of them).
_LIMIT_PATTERNS = (
    re.compile(r"exceeds maximum operation depth of \d+$"),
    re.compile(r"^\d+ aliases found\. Allowed: \d+$"),
    re.compile(r"contains more than \d+ (tokens|code points)\."),
)


def _is_limit_error(error: GraphQLError) -> bool:
    return error.original_error is None and any(p.search(error.message) for p in _LIMIT_PATTERNS)


def with_code(error: GraphQLError) -> GraphQLError:
    """The error with its ``extensions.code``. Errors graphql-core raises before execution
    (parsing, validation, limits) skip the extensions, so the HTTP view applies this too."""
    if error.extensions and "code" in error.extensions:
        return error
    original = error.original_error
    if isinstance(original, HubError):
        extensions = {"code": original.code, **original.extensions}
        message = original.message
    elif _is_limit_error(error):
        extensions, message = {"code": "QUERY_TOO_COMPLEX"}, error.message
    elif original is None or isinstance(original, GraphQLError):
        # graphql-core's own: a bad document or variables (coercion wraps a GraphQLError)
        extensions, message = {"code": "BAD_USER_INPUT"}, error.message
    else:
        return error  # an unexpected exception: CodedErrors masks it
    return GraphQLError(
        message=message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=original,
        extensions={**(error.extensions or {}), **extensions},
    )


class CodedErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=self._is_unexpected)

    @staticmethod
    def _is_unexpected(error: GraphQLError) -> bool:
        original = error.original_error
        return original is not None and not isinstance(original, HubError | GraphQLError)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = self._request_id()
        fault = database_fault(error.original_error)
        if fault is not None:
            return self._fault(error, fault, request_id)
        log.error(
            "unexpected error in request %s at %s",
            request_id,
            error.path,
            exc_info=error.original_error,
        )
        return GraphQLError(
            message=f"Internal server error (request {request_id}).",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )

    def _fault(self, error: GraphQLError, fault: DatabaseFault, request_id: str) -> GraphQLError:
        log.warning("database %s in request %s at %s", fault.kind, request_id, error.path)
        context = getattr(self.execution_context, "context", None)
        answer_as_unavailable(getattr(context, "response", None), fault)
        return GraphQLError(
            message=fault.message,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": fault.code, **fault.extensions, "requestId": request_id},
        )

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [with_code(e) for e in super()._process_errors(errors)]

    def _request_id(self) -> str:
        context = getattr(self.execution_context, "context", None)
        return str(getattr(context, "request_id", "unknown"))
