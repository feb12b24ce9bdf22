"""The request edge owns the transaction: catch up, then commit or roll back, in one place.

Before the operation: one statement reads the ledger head and the data revision
(hub.db.revisions), and the consent projection catches up to that head, so a revocation binds
every request that starts after it committed, on every process. If that fails, every decision
in the request is a denial.

After it, from the result (strawberry reports resolver exceptions inside a 200 response, so
HTTP middleware never sees a failed mutation):
- a mutation without errors commits; any other mutation rolls back;
- protected data in the answer is re-checked against the consent rows (FOR SHARE) and its
  disclosure rows are written and committed; if a consent moved, the answer is replaced by an
  error and nothing is disclosed;
- a failed commit replaces the answer too: never report a change or a disclosure that was not
  saved.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from graphql import GraphQLError
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from hub.db.faults import answer_as_unavailable, database_fault
from hub.db.revisions import read_revisions
from hub.errors import Forbidden
from hub.graphql.context import Context

log = logging.getLogger("hub.graphql")


def _replace_answer(result: object, error: GraphQLError) -> None:
    if result is not None:
        result.data = None  # type: ignore[attr-defined]
        result.errors = [error]  # type: ignore[attr-defined]


class TransactionExtension(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context) and isinstance(context.request, WebSocket):
            context = self.execution_context.context = context.for_operation()
        if isinstance(context, Context):
            try:
                async with context.db.session() as session:
                    revisions = await read_revisions(session)
                    await context.authz.authorizer.catch_up(session, revisions.ledger_head)
                context.revisions = revisions
            except Exception as exc:
                context.fault = database_fault(exc)
                if context.fault is None:
                    log.exception(
                        "consent catch-up failed in request %s: denying", context.request_id
                    )
                context.authz.healthy = False
        try:
            yield
        except BaseException:
            # the operation ended with an exception strawberry turns into an error later
            if isinstance(context, Context):
                await context.db.finish(commit=False)
            raise
        if not isinstance(context, Context):
            return
        result = self.execution_context.result
        if context.fault is not None:
            # every decision was a denial; say why, not "forbidden"
            _replace_answer(result, self._internal(context, context.fault))
            await context.db.finish(commit=False)
            return
        errors = getattr(result, "errors", None)
        is_mutation = self.execution_context.operation_type is OperationType.MUTATION
        commit = is_mutation and not errors
        settled = False
        try:
            if context.disclosures.items and getattr(result, "data", None) is not None:
                if is_mutation and errors:
                    raise Forbidden("the change failed, so nothing of it is shown")
                async with context.db.session() as session:
                    await context.disclosures.commit_check(session)
                commit = True
        except Forbidden as refused:
            _replace_answer(
                result, GraphQLError(refused.message, extensions={"code": refused.code})
            )
            commit = False
        except Exception as exc:
            if database_fault(exc) is None:
                log.exception("disclosure check failed in request %s", context.request_id)
            _replace_answer(result, self._internal(context, exc))
            commit = False
        else:
            settled = True
        try:
            await context.db.finish(commit=commit)
        except Exception as exc:
            if database_fault(exc) is None:
                log.exception("commit failed in request %s", context.request_id)
            _replace_answer(result, self._internal(context, exc, " Nothing was saved."))
        else:
            context.settled = settled

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if (
            isinstance(context, Context)
            and self.execution_context.operation_type is OperationType.SUBSCRIPTION
        ):
            # a subscription lives for hours: it holds no connection and no transaction (its
            # reads take short sessions of their own, hub.events.graphql)
            await context.db.finish(commit=False)
        yield

    @staticmethod
    def _internal(context: Context, exc: BaseException, suffix: str = "") -> GraphQLError:
        fault = database_fault(exc)
        if fault is not None:
            log.warning("database %s in request %s", fault.kind, context.request_id)
            answer_as_unavailable(context.response, fault)
            return GraphQLError(
                fault.message,
                extensions={
                    "code": fault.code,
                    **fault.extensions,
                    "requestId": context.request_id,
                },
            )
        return GraphQLError(
            f"Internal server error (request {context.request_id}).{suffix}",
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": context.request_id},
        )
