"""Column types shared by the domain models."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Enum


def enum_column(enum_cls: type[enum.Enum], name: str) -> Any:
    """A VARCHAR with a CHECK constraint: adding a member is a one-line migration."""
    return Enum(enum_cls, name=name, native_enum=False, create_constraint=True, length=32)
