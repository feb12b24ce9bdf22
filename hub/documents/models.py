"""Registered operations, addressed by the SHA-256 of their exact text. A row never changes:
its id is its content."""

from __future__ import annotations

from sqlalchemy import Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, HasCreatedAt


class TrustedDocument(Base, HasCreatedAt):
    __tablename__ = "trusted_documents"

    # "sha256:<64 hex digits>", as the GraphQL-over-HTTP trusted documents convention writes it
    id: Mapped[str] = mapped_column(Text, primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
