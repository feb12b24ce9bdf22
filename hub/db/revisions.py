"""Data revisions: a number per table that grows with every committed change to it.

A statement-level trigger on every table but the disclosure log bumps the table's row (see the
migration that made them), so no code path, CLI import or background task can change data
without it. A cached answer (hub.graphql.response_cache) is keyed by the ledger head and the
sum of these numbers, read in one statement with one snapshot: any commit after that read moves
the key, so an answer is never served for data older than the request that asks for it.

Why a row per table and not one counter: a row's lock is held until its writer commits; with
one row a long supplier-list upload would hold back every grant until it ended.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base

# Tables whose changes do not move the revision. The disclosure log grows with every read that
# discloses (counting it would make every such answer its own key); answers that read it are
# never cached. alembic_version is the migration tool's.
UNTRACKED = frozenset({"disclosures", "alembic_version", "data_revisions"})


class DataRevision(Base):
    __tablename__ = "data_revisions"

    table_name: Mapped[str] = mapped_column(String(63), primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger, default=0)


@dataclass(frozen=True, slots=True)
class Revisions:
    ledger_head: int  # the consent ledger's highest index, -1 when empty
    data: int  # the sum of the per-table revisions

    @property
    def key(self) -> tuple[int, int]:
        return (self.ledger_head, self.data)


async def read_revisions(session: AsyncSession) -> Revisions:
    """The ledger head and the data revision, in one statement (one snapshot, one round trip)."""
    from hub.ledger.models import ConsentLogEntry  # the ledger's model; avoid an import cycle

    head = select(func.max(ConsentLogEntry.seq)).scalar_subquery()
    data = select(func.coalesce(func.sum(DataRevision.revision), 0)).scalar_subquery()
    found = (await session.execute(select(head, data))).one()
    return Revisions(-1 if found[0] is None else int(found[0]), int(found[1]))
