"""The consent ledger (append-only, refused UPDATE/DELETE/TRUNCATE by triggers created in a
migration) and its signed checkpoints."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, LargeBinary, SmallInteger, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base


class ConsentLogEntry(Base):
    """One leaf of the log. ``leaf`` holds the exact bytes that were hashed; the other columns
    are copies of its fields for queries. Ids are pseudonymous: no personal data here."""

    __tablename__ = "consent_log"
    __table_args__ = (
        Index("ix_consent_log_factory_seq", "factory_id", "seq"),
        Index("ix_consent_log_buyer_seq", "buyer_org_id", "seq"),
    )

    # 0-based and gap-free: assigned under pg_advisory_xact_lock, never by a sequence
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    event_type: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column()
    consent_id: Mapped[uuid.UUID | None] = mapped_column()
    factory_id: Mapped[uuid.UUID | None] = mapped_column()
    buyer_org_id: Mapped[uuid.UUID | None] = mapped_column()
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    expires_at: Mapped[datetime | None] = mapped_column()
    leaf: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary)


class Checkpoint(Base):
    __tablename__ = "checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary)
    issued_at: Mapped[datetime] = mapped_column()
    key_id: Mapped[str] = mapped_column(Text)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    # the whole signed note, exactly as served
    note: Mapped[str] = mapped_column(Text)


class ConsentEventReason(Base):
    """The free-text reason given with an event: personal data may be in it, so it lives
    beside the log (erasable), never in a leaf."""

    __tablename__ = "consent_event_reasons"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    reason: Mapped[str] = mapped_column(Text)


class TreeNode(Base):
    """A perfect subtree hash of the Merkle tree over the log: leaves
    [idx * 2**level, (idx + 1) * 2**level). Level 0 is the log's own leaf_hash column; levels
    from 1 up are kept here, so roots and proofs for any size need O(log n) lookups."""

    __tablename__ = "ledger_tree"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary)
