"""data revision bumped at commit by every writing transaction

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
UNTRACKED = {"disclosures", "ledger_tree", "checkpoints", "alembic_version", "data_revision"}

# Deferred to commit and bumped once per transaction: the row lock is taken last and held only
# while committing, so it cannot join a lock cycle with the ledger lock or row locks (a bump at
# statement time did, between a grant and a revocation: measured, 1,254 deadlocks in a run).
BUMP = """
CREATE FUNCTION bump_data_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('hub.data_revision_bumped', true) IS DISTINCT FROM 'on' THEN
    UPDATE data_revision SET revision = revision + 1 WHERE id = 1;
    PERFORM set_config('hub.data_revision_bumped', 'on', true);
  END IF;
  RETURN NULL;
END $$
"""

TRACK = """
CREATE FUNCTION track_data_revision(t text, only_when text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF only_when IS NULL THEN
    EXECUTE format('CREATE CONSTRAINT TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I '
                   'DEFERRABLE INITIALLY DEFERRED FOR EACH ROW '
                   'EXECUTE FUNCTION bump_data_revision()', t || '_data_revision', t);
  ELSE
    EXECUTE format('CREATE CONSTRAINT TRIGGER %I AFTER INSERT ON %I '
                   'DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (%s) '
                   'EXECUTE FUNCTION bump_data_revision()', t || '_data_revision', t, only_when);
  END IF;
  EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I '
                 'FOR EACH STATEMENT EXECUTE FUNCTION bump_data_revision()',
                 t || '_data_revision_truncate', t);
END $$
"""


def _tracked() -> list[str]:
    return sorted(set(sa.inspect(op.get_bind()).get_table_names()) - UNTRACKED)


def upgrade() -> None:
    op.create_table('data_revision',
    sa.Column('id', sa.SmallInteger(), nullable=False),
    sa.Column('revision', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_data_revision_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_revision'))
    )
    op.execute("INSERT INTO data_revision (id, revision) VALUES (1, 0)")
    op.execute(BUMP)
    op.execute(TRACK)
    for table in _tracked():
        # the log's own digests of the disclosure log change no consent and no report
        when = "NEW.event_type <> 'DISCLOSURE_DIGEST'" if table == "consent_log" else None
        op.execute(
            sa.text("SELECT track_data_revision(:t, :w)").bindparams(t=table, w=when)
        )
    op.execute("GRANT SELECT, UPDATE ON data_revision TO compliance_hub_app")


def downgrade() -> None:
    for table in _tracked():
        op.execute(f'DROP TRIGGER IF EXISTS "{table}_data_revision" ON "{table}"')
        op.execute(f'DROP TRIGGER IF EXISTS "{table}_data_revision_truncate" ON "{table}"')
    op.execute("DROP FUNCTION track_data_revision(text, text)")
    op.execute("DROP FUNCTION bump_data_revision()")
    op.drop_table('data_revision')
