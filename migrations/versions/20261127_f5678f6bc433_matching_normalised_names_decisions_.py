"""matching: normalised names, decisions, pending reviews, reused requests

Revision ID: f5678f6bc433
Revises: 3e787ddc5b08
Create Date: 2026-11-27 20:07:03.458548+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'f5678f6bc433'
down_revision: str | None = '3e787ddc5b08'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _backfill_normalised_names() -> None:
    # the same normalisation the code applies to every new factory
    from hub.matching.normalise import normalise_address, normalise_name

    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, name, address FROM factories")).all()
    for row in rows:
        conn.execute(
            sa.text("UPDATE factories SET norm_name = :n, norm_address = :a WHERE id = :id"),
            {"n": normalise_name(row.name), "a": normalise_address(row.address), "id": row.id},
        )


def upgrade() -> None:
    op.create_table('pending_matches',
    sa.Column('buyer_org_id', sa.UUID(), nullable=False),
    sa.Column('buyer_ref', sa.Text(), nullable=False),
    sa.Column('record', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('candidates', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['buyer_org_id'], ['organizations.id'], name=op.f('fk_pending_matches_buyer_org_id_organizations')),
    sa.PrimaryKeyConstraint('buyer_org_id', 'buyer_ref', name=op.f('pk_pending_matches'))
    )
    op.create_table('match_decisions',
    sa.Column('buyer_org_id', sa.UUID(), nullable=False),
    sa.Column('buyer_ref', sa.Text(), nullable=False),
    sa.Column('factory_id', sa.UUID(), nullable=False),
    sa.Column('decision', sa.Enum('CONFIRMED', 'REJECTED', name='match_decision', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['buyer_org_id'], ['organizations.id'], name=op.f('fk_match_decisions_buyer_org_id_organizations')),
    sa.ForeignKeyConstraint(['factory_id'], ['factories.id'], name=op.f('fk_match_decisions_factory_id_factories')),
    sa.PrimaryKeyConstraint('buyer_org_id', 'buyer_ref', 'factory_id', name=op.f('pk_match_decisions'))
    )
    op.add_column('assessment_request_buyers', sa.Column('reused', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.add_column('factories', sa.Column('norm_name', sa.Text(), server_default='', nullable=False))
    op.add_column('factories', sa.Column('norm_address', sa.Text(), server_default='', nullable=False))
    _backfill_normalised_names()
    op.create_index('ix_factories_norm_name_trgm', 'factories', ['norm_name'], unique=False, postgresql_using='gin', postgresql_ops={'norm_name': 'gin_trgm_ops'})
    op.add_column('supplier_links', sa.Column('record_hash', sa.Text(), nullable=True))
    op.execute(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON match_decisions, pending_matches "
        "TO compliance_hub_app"
    )


def downgrade() -> None:
    op.drop_column('supplier_links', 'record_hash')
    op.drop_index('ix_factories_norm_name_trgm', table_name='factories', postgresql_using='gin', postgresql_ops={'norm_name': 'gin_trgm_ops'})
    op.drop_column('factories', 'norm_address')
    op.drop_column('factories', 'norm_name')
    op.drop_column('assessment_request_buyers', 'reused')
    op.drop_table('match_decisions')
    op.drop_table('pending_matches')
