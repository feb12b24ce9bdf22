"""trusted documents

Revision ID: b81d81d78b58
Revises: e93b64308825
Create Date: 2026-11-28 03:50:09.246217+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'b81d81d78b58'
down_revision: str | None = 'e93b64308825'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('trusted_documents',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trusted_documents'))
    )
    op.add_column('oauth_clients', sa.Column('trusted_documents_only', sa.Boolean(), server_default='false', nullable=False))
    # the hub reads them; only `hub documents add` (the owner) registers them
    op.execute("GRANT SELECT ON trusted_documents TO compliance_hub_app")


def downgrade() -> None:
    op.drop_column('oauth_clients', 'trusted_documents_only')
    op.drop_table('trusted_documents')
