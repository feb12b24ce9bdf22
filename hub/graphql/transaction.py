"""The request edge owns the transaction: commit or roll back in one place.

strawberry reports resolver exceptions inside a 200 response, so HTTP middleware never sees a
failed mutation. This extension decides after the operation from its result: a mutation without
errors commits; anything else rolls back. A failed commit replaces the answer with an error, so a
client is never told that a change it asked for happened when it did not.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from hub.graphql.context import Context

log = logging.getLogger("hub.graphql")


class TransactionExtension(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        if not isinstance(context, Context):
            return
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        is_mutation = self.execution_context.operation_type is OperationType.MUTATION
        try:
            await context.db.finish(commit=is_mutation and not errors)
        except Exception:
            log.exception("commit failed in request %s", context.request_id)
            if result is not None:
                result.data = None
                result.errors = [
                    GraphQLError(
                        f"Internal server error (request {context.request_id}): nothing was saved.",
                        extensions={
                            "code": "INTERNAL_SERVER_ERROR",
                            "requestId": context.request_id,
                        },
                    )
                ]
