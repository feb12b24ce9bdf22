"""matching: exact normalised-name index

Revision ID: b493e46a2265
Revises: f5678f6bc433
Create Date: 2026-11-27 20:37:45.349474+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'b493e46a2265'
down_revision: str | None = 'f5678f6bc433'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_factories_country_norm_name', 'factories', ['country', 'norm_name'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_factories_country_norm_name', table_name='factories')

