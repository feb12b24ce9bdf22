"""Relay connection types (edges, pageInfo, totalCount) built from a keyset Page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from hub.db.paging import Page
from hub.graphql.context import Info

Node = TypeVar("Node")
Model = TypeVar("Model")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
    # forward-only paging: there is never a previous page to go back to through `after`
    has_previous_page: bool = False
    start_cursor: str | None = None


@strawberry.type
class Edge(Generic[Node]):
    cursor: str
    node: Node


@strawberry.type
class Connection(Generic[Node]):
    edges: list[Edge[Node]]
    page_info: PageInfo
    count_query: strawberry.Private[Any]

    @strawberry.field(description="How many items the whole list holds.")
    async def total_count(self, info: Info) -> int:
        if self.count_query is None:
            return 0
        async with info.context.db.session() as session:
            count: int = (await session.execute(self.count_query)).scalar_one()
        return count

    @classmethod
    def from_page(cls, page: Page[Model], to_node: Callable[[Model], Node]) -> Connection[Node]:
        edges = [Edge(cursor=cursor, node=to_node(item)) for cursor, item in page.edges]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                end_cursor=page.end_cursor,
                start_cursor=edges[0].cursor if edges else None,
            ),
            count_query=page.count_query,
        )
