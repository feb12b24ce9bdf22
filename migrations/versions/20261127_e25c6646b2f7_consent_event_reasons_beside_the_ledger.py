"""consent event reasons beside the ledger

Revision ID: e25c6646b2f7
Revises: af92a26d9b65
Create Date: 2026-11-27 19:27:06.196368+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'e25c6646b2f7'
down_revision: str | None = 'af92a26d9b65'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('consent_event_reasons',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_consent_event_reasons'))
    )


def downgrade() -> None:
    op.drop_table('consent_event_reasons')
