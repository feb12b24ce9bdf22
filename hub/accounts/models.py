"""People and their console sessions. A session row holds only a hash of the cookie's token:
someone who reads the database cannot sign in with what they read."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, HasCreatedAt, HasId


class User(Base, HasId, HasCreatedAt):
    __tablename__ = "users"

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    # stored lower-cased: one person, one address, however they type it
    email: Mapped[str] = mapped_column(Text, unique=True)
    # salted scrypt, as client secrets (hub.directory.service.hash_secret)
    password_hash: Mapped[str] = mapped_column(Text)
    disabled_at: Mapped[datetime | None] = mapped_column()


class WebSession(Base, HasCreatedAt):
    __tablename__ = "web_sessions"

    # SHA-256 of the cookie's random token
    token_hash: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # the synchronizer token every form of this session must carry
    csrf_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column()
