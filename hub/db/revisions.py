"""The data revision: a number that grows with every committed change to the hub's data.

A deferred trigger on every table but the untracked ones bumps it once per writing transaction,
at commit (see the migration that made it), so no code path, CLI import or background task can
change data without it. Consent events are rows of the ledger, so they bump it too; the ledger's
own digests of the disclosure log do not. A cached answer (hub.graphql.response_cache) is keyed
by it, read in the same statement as the ledger head the consent projection then catches up to:
any commit after that read moves the key for every request that starts after it.

One row, bumped last: the lock is held only while committing, so writers queue only there and
no lock cycle can include it. A migration that changes rows of a table and then alters it runs
SET CONSTRAINTS ALL IMMEDIATE in between (PostgreSQL refuses to alter a table with pending
deferred trigger events).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, CheckConstraint, SmallInteger, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base

# Tables whose changes do not move the revision. The disclosure log grows with every answer that
# discloses, and the Merkle tree and checkpoints grow with the log's digests of it: counting them
# would make every such answer its own key. Answers that read them (disclosures, proofs,
# checkpoints) are never cached. alembic_version is the migration tool's. The outbox is written
# only beside tracked changes, and it and the webhook tables then change with every delivery;
# no cached answer reads them. Trusted documents are requests, not data; people and sessions
# change no answer (a person acts as their organisation).
UNTRACKED = frozenset(
    {
        "disclosures",
        "ledger_tree",
        "checkpoints",
        "alembic_version",
        "data_revision",
        "events",
        "trusted_documents",
        "users",
        "web_sessions",
        "oauth_codes",
        "webhook_endpoints",
        "webhook_deliveries",
    }
)


class DataRevision(Base):
    __tablename__ = "data_revision"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger)


@dataclass(frozen=True, slots=True)
class Revisions:
    ledger_head: int  # the consent ledger's highest index, -1 when empty
    data: int


# built once: it runs at the start of every request (as is, on the driver, for a kept answer:
# hub.graphql.reuse)
READ_SQL = (
    "SELECT (SELECT max(seq) FROM consent_log), (SELECT revision FROM data_revision WHERE id = 1)"
)
_READ = text(READ_SQL)


def revisions_of(head: int | None, data: int | None) -> Revisions:
    return Revisions(-1 if head is None else int(head), int(data or 0))


async def read_revisions(session: AsyncSession) -> Revisions:
    """The ledger head and the data revision, in one statement (one snapshot, one round trip)."""
    head, data = (await session.execute(_READ)).one()
    return revisions_of(head, data)
