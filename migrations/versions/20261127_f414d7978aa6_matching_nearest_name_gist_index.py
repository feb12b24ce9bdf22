"""matching: nearest-name GiST index

Revision ID: f414d7978aa6
Revises: f5678f6bc433
Create Date: 2026-11-27 20:32:12.265037+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'f414d7978aa6'
down_revision: str | None = 'f5678f6bc433'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # btree_gist puts the country (a plain equality) in the same GiST index as the trigrams
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.drop_index(op.f('ix_factories_norm_name_trgm'), table_name='factories', postgresql_ops={'norm_name': 'gin_trgm_ops'}, postgresql_using='gin')
    op.create_index('ix_factories_country_norm_name_trgm', 'factories', ['country', 'norm_name'], unique=False, postgresql_using='gist', postgresql_ops={'norm_name': 'gist_trgm_ops'})


def downgrade() -> None:
    op.drop_index('ix_factories_country_norm_name_trgm', table_name='factories', postgresql_using='gist', postgresql_ops={'norm_name': 'gist_trgm_ops'})
    op.create_index(op.f('ix_factories_norm_name_trgm'), 'factories', ['norm_name'], unique=False, postgresql_ops={'norm_name': 'gin_trgm_ops'}, postgresql_using='gin')
