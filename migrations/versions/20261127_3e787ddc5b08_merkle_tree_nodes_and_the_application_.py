"""merkle tree nodes and the application role

Revision ID: 3e787ddc5b08
Revises: e25c6646b2f7
Create Date: 2026-11-27 19:54:29.545502+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '3e787ddc5b08'
down_revision: str | None = 'e25c6646b2f7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The role the hub connects as in production (a login role that is a member of it): it may
# read and append the evidence tables, never change them; the triggers refuse changes even to
# the owner, this takes the privilege away as well.
APP_ROLE = "compliance_hub_app"
EVIDENCE = ("consent_log", "checkpoints", "disclosures", "ledger_tree")


def upgrade() -> None:
    op.create_table('ledger_tree',
    sa.Column('level', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('idx', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('hash', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('level', 'idx', name=op.f('pk_ledger_tree'))
    )
    op.execute(
        "CREATE TRIGGER ledger_tree_refuse_row_change BEFORE UPDATE OR DELETE ON ledger_tree "
        "FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change()"
    )
    op.execute(
        "CREATE TRIGGER ledger_tree_refuse_truncate BEFORE TRUNCATE ON ledger_tree "
        "FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change()"
    )
    op.execute("ALTER TABLE ledger_tree ENABLE ALWAYS TRIGGER ledger_tree_refuse_row_change")
    op.execute("ALTER TABLE ledger_tree ENABLE ALWAYS TRIGGER ledger_tree_refuse_truncate")
    op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON ledger_tree FROM PUBLIC")
    op.execute(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') "
        f"THEN CREATE ROLE {APP_ROLE} NOLOGIN; END IF; END $$"
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    op.execute(
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}"
    )
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    for table in EVIDENCE:
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {APP_ROLE}")


def downgrade() -> None:
    # the role is cluster-wide and may serve other databases: it stays; its grants go with the
    # tables and with this revoke
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}")
    op.drop_table('ledger_tree')
