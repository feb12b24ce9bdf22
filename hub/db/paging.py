"""Forward keyset pagination (Relay connections) over SQLAlchemy selects, via sqlakeyset.

A cursor is sqlakeyset's bookmark of the row's ordering keys, base64url-wrapped so clients treat
it as opaque. The select must be ordered by a unique key (ties would skip or repeat rows).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlakeyset
from sqlakeyset.asyncio import select_page
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import BadUserInput

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    edges: list[tuple[str, T]]
    has_next_page: bool
    end_cursor: str | None
    # run only when a client asks for totalCount: counting a long list costs more than a page;
    # None: the list is empty by decision (nothing the caller may see), nothing to count
    count_query: Select[Any] | None

    @classmethod
    def empty(cls) -> Page[T]:
        return cls([], False, None, None)


def check_first(first: int, page_max: int) -> None:
    if not 1 <= first <= page_max:
        raise BadUserInput(f"first must be between 1 and {page_max}, got {first}", argument="first")


def encode_cursor(bookmark: str) -> str:
    return base64.urlsafe_b64encode(bookmark.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        bookmark = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
        marker = sqlakeyset.unserialize_bookmark(bookmark)
    except (binascii.Error, UnicodeError, ValueError, sqlakeyset.BadBookmark):
        raise BadUserInput("after is not a cursor this hub issued", argument="after") from None
    if marker.place is None or marker.backwards:
        raise BadUserInput("after is not a cursor this hub issued", argument="after")
    return bookmark


async def keyset_page(
    session: AsyncSession,
    query: Select[*tuple[Any, ...]],
    first: int,
    after: str | None,
    *,
    whole_row: bool = False,
) -> Page[Any]:
    """One page of ``query`` (ordered by a unique key) and the statement that counts it all."""
    bookmark = decode_cursor(after) if after else None
    try:
        page = await select_page(session, query, per_page=first, page=bookmark)
    except (ValueError, TypeError, sqlakeyset.InvalidPage):
        # a well-formed cursor from another list (other key types or count)
        raise BadUserInput("after is not a cursor for this list", argument="after") from None
    marks = page.paging.bookmark_items()  # type: ignore[no-untyped-call]
    edges = [(encode_cursor(mark), tuple(row) if whole_row else row[0]) for mark, row in marks]
    return Page(
        edges=edges,
        has_next_page=page.paging.has_next,
        end_cursor=edges[-1][0] if edges else None,
        count_query=select(func.count()).select_from(query.order_by(None).subquery()),
    )
