"""public clients and authorization codes

Revision ID: ec7c51a24a20
Revises: 77f2045e59ca
Create Date: 2026-11-28 04:24:21.964450+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'ec7c51a24a20'
down_revision: str | None = '77f2045e59ca'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('oauth_codes',
    sa.Column('code_hash', sa.Text(), nullable=False),
    sa.Column('client_id', sa.Text(), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('redirect_uri', sa.Text(), nullable=False),
    sa.Column('code_challenge', sa.Text(), nullable=False),
    sa.Column('code_challenge_method', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oauth_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('code_hash', name=op.f('pk_oauth_codes'))
    )
    op.add_column('oauth_clients', sa.Column('public', sa.Boolean(), server_default='false', nullable=False))
    op.add_column('oauth_clients', sa.Column('redirect_uris', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False))

    op.execute("GRANT SELECT, INSERT, DELETE ON oauth_codes TO compliance_hub_app")


def downgrade() -> None:
    op.drop_column('oauth_clients', 'redirect_uris')
    op.drop_column('oauth_clients', 'public')
    op.drop_table('oauth_codes')
