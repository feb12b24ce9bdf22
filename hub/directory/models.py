"""Organisations, their OAuth clients, and factory profiles (the directory)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, HasCreatedAt, HasId
from hub.db.types import enum_column


class Role(enum.Enum):
    """An organisation's kind; every principal of the organisation acts in this role."""

    BUYER = "BUYER"
    FACTORY = "FACTORY"
    ASSESSOR = "ASSESSOR"
    AUDITOR = "AUDITOR"
    ADMIN = "ADMIN"


class Organization(Base, HasId, HasCreatedAt):
    __tablename__ = "organizations"

    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    name: Mapped[str] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(String(2))


class OAuthClient(Base, HasId, HasCreatedAt):
    """A machine client (client credentials grant). Only a hash of the secret is kept."""

    __tablename__ = "oauth_clients"

    client_id: Mapped[str] = mapped_column(Text, unique=True)
    secret_hash: Mapped[str] = mapped_column(Text)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None] = mapped_column()
    # its tokens carry `tdo`: only registered documents (hub.graphql.trusted) are run for them
    trusted_documents_only: Mapped[bool] = mapped_column(server_default="false")
    # a public client (a person's tool: no secret, authorization code with PKCE) and where it
    # may receive codes; machine clients have a secret and use client credentials
    public: Mapped[bool] = mapped_column(server_default="false")
    redirect_uris: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")


class OAuthCode(Base, HasCreatedAt):
    """An authorization code, until it is exchanged (once) or expires; only its hash is kept."""

    __tablename__ = "oauth_codes"

    code_hash: Mapped[str] = mapped_column(Text, primary_key=True)
    client_id: Mapped[str] = mapped_column(Text)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(Text)
    code_challenge_method: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column()


class Factory(Base, HasId, HasCreatedAt):
    """A factory profile. It may exist before anyone at the factory has an account; a FACTORY
    organisation claims it (``claimed_by_org_id``), and only a claimed factory grants consent."""

    __tablename__ = "factories"
    __table_args__ = (
        Index("ix_factories_country_seq", "country", "seq"),
        # pg_trgm serves `name ILIKE '%…%'` (nameContains) and, later, fuzzy candidates
        Index(
            "ix_factories_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
        # matching: exact normalised names first (most records), then trigram candidates
        Index("ix_factories_country_norm_name", "country", "norm_name"),
        Index(
            "ix_factories_norm_name_trgm",
            "norm_name",
            postgresql_using="gin",
            postgresql_ops={"norm_name": "gin_trgm_ops"},
        ),
        Index(
            "uq_factories_country_registration_number",
            "country",
            "registration_number",
            unique=True,
            postgresql_where=text("registration_number IS NOT NULL"),
        ),
    )

    # creation order: the stable key that factory lists page by
    seq: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    hub_id: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str] = mapped_column(String(2))
    sector: Mapped[str | None] = mapped_column(Text)
    worker_count: Mapped[int | None] = mapped_column(Integer)
    os_id: Mapped[str | None] = mapped_column(Text, unique=True)
    registration_number: Mapped[str | None] = mapped_column(Text)
    # hub.matching.normalise of name and address, kept with the row so the index can serve
    norm_name: Mapped[str] = mapped_column(Text, server_default="")
    norm_address: Mapped[str] = mapped_column(Text, server_default="")
    claimed_by_org_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id"), unique=True
    )
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("factories.id"))
