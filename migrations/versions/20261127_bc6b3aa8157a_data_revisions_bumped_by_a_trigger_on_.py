"""data revisions bumped by a trigger on every table

Revision ID: bc6b3aa8157a
Revises: c419f9d525fa
Create Date: 2026-11-27 22:38:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'bc6b3aa8157a'
down_revision: str | None = 'c419f9d525fa'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# hub.db.revisions.UNTRACKED; a migration that adds a table runs
# "SELECT track_data_revision('<table>')" (tests/db/test_revisions.py checks every table)
UNTRACKED = {"disclosures", "alembic_version", "data_revisions"}

BUMP = """
CREATE FUNCTION bump_data_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE data_revisions SET revision = revision + 1 WHERE table_name = TG_TABLE_NAME;
  RETURN NULL;
END $$
"""

TRACK = """
CREATE FUNCTION track_data_revision(t text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO data_revisions (table_name, revision) VALUES (t, 0) ON CONFLICT DO NOTHING;
  EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I '
                 'FOR EACH STATEMENT EXECUTE FUNCTION bump_data_revision()',
                 t || '_data_revision', t);
  EXECUTE format('ALTER TABLE %I ENABLE ALWAYS TRIGGER %I', t, t || '_data_revision');
END $$
"""


def upgrade() -> None:
    op.create_table('data_revisions',
    sa.Column('table_name', sa.String(length=63), nullable=False),
    sa.Column('revision', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('table_name', name=op.f('pk_data_revisions'))
    )
    op.execute(BUMP)
    op.execute(TRACK)
    for table in sorted(set(sa.inspect(op.get_bind()).get_table_names()) - UNTRACKED):
        op.execute(sa.text("SELECT track_data_revision(:t)").bindparams(t=table))
    op.execute("GRANT SELECT, UPDATE ON data_revisions TO compliance_hub_app")


def downgrade() -> None:
    for table in sorted(set(sa.inspect(op.get_bind()).get_table_names()) - UNTRACKED):
        op.execute(f'DROP TRIGGER IF EXISTS "{table}_data_revision" ON "{table}"')
    op.execute("DROP FUNCTION track_data_revision(text)")
    op.execute("DROP FUNCTION bump_data_revision()")
    op.drop_table('data_revisions')
