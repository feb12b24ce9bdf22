"""Limits that need the parsed request: one operation per request, an estimated cost under
HUB_MAX_COST (hub.graphql.cost), and the client's budget of cost points per minute
(hub.graphql.ratelimit), all checked before execution."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension

from hub.errors import BadUserInput, QueryTooComplex
from hub.graphql.context import Context
from hub.graphql.cost import estimate, operations
from hub.graphql.ratelimit import ClientBudgets, Refused
from hub.ops.throttle import TARPIT


class RequestLimits(SchemaExtension):
    def __init__(self, budgets: ClientBudgets, max_cost: int, page_max: int) -> None:
        self.budgets = budgets
        self.max_cost = max_cost
        self.page_max = page_max

    async def on_execute(self) -> AsyncIterator[None]:
        ec = self.execution_context
        document = ec.graphql_document
        if document is not None:
            if len(operations(document)) > 1:
                raise BadUserInput("send one operation per request (this document holds several)")
            cost = estimate(
                ec.schema._schema, document, ec.operation_name, ec.variables, self.page_max
            )
            if cost > self.max_cost:
                raise QueryTooComplex(
                    f"this request could return about {cost} objects, more than the limit of "
                    f"{self.max_cost}; ask for fewer items with `first`, or fewer nested lists",
                    cost=cost,
                )
            context = ec.context
            if isinstance(context, Context):
                context.extra["cost"] = cost  # a reuse of the answer is charged the same
                try:
                    await self.budgets.charge(context.principal.subject, cost)
                except Refused as refused:
                    await asyncio.sleep(TARPIT)  # as the guard does (hub.ops.guard)
                    response = context.response
                    if response is not None and hasattr(response, "headers"):
                        response.status_code = 429
                        response.headers["Retry-After"] = str(refused.retry_after)
                    raise
        yield
