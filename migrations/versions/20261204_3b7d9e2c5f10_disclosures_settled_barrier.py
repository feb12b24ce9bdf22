"""disclosures settled: the digest's barrier, its exclusive lock held for one statement

Revision ID: 3b7d9e2c5f10
Revises: 8c2f4e61a0d3
Create Date: 2026-12-04 04:20:00+00:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = '3b7d9e2c5f10'
down_revision: str | None = '8c2f4e61a0d3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Every disclosing answer holds the digest lock shared from before its row takes an id until it
# commits (the function disclose()). Granted the lock exclusively, this knows that every id
# handed out so far belongs to a transaction that has ended, so every disclosure row up to the
# sequence's last value is final: committed, or never to be. It returns that value (0 before
# the first row; the identity's sequence hands out ids one at a time, CACHE 1, so no process
# holds ids below it in reserve). Called alone in an implicit transaction
# (hub.disclosures.repository.settled_up_to), the lock is held for this statement only: the
# digest then reads and hashes its rows with no lock held, and no disclosing answer waits on it.
SETTLED = """
CREATE FUNCTION disclosures_settled(p_digest_lock bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(p_digest_lock);
    RETURN coalesce(pg_sequence_last_value(pg_get_serial_sequence('disclosures', 'id')::regclass), 0);
END $$
"""


def upgrade() -> None:
    op.execute(SETTLED)


def downgrade() -> None:
    op.execute("DROP FUNCTION disclosures_settled(bigint)")
