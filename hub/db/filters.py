"""Filters whose SQL text does not depend on how many values they are given.

``column IN (…)`` renders one placeholder per value, so every batch size is a new statement:
SQLAlchemy compiles it again and asyncpg prepares it again (a parse per request, measured in
bench/RESULTS.md). ``column = ANY($1)`` with one array parameter is one prepared statement.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY


def any_of(column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column = ANY(:values)``, the array typed like the column."""
    param = bindparam(None, list(values), type_=ARRAY(column.type))
    return column == any_(param)  # type: ignore[no-any-return]
