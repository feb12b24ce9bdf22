"""supplier links carry their factory's seq for the list order

Revision ID: 1193969f6d8e
Revises: bc6b3aa8157a
Create Date: 2026-11-27 23:13:39.947167+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '1193969f6d8e'
down_revision: str | None = 'bc6b3aa8157a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# factories.seq never changes (an identity); a link's factory_id does, when factories merge
SET_SEQ = """
CREATE FUNCTION supplier_link_factory_seq() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  SELECT seq INTO NEW.factory_seq FROM factories WHERE id = NEW.factory_id;
  RETURN NEW;
END $$
"""


def upgrade() -> None:
    op.add_column('supplier_links', sa.Column('factory_seq', sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE supplier_links l SET factory_seq = f.seq FROM factories f WHERE f.id = l.factory_id"
    )
    # the data revision's deferred bumps of that UPDATE must fire before the table is altered
    # ("cannot ALTER TABLE because it has pending trigger events")
    op.execute("SET CONSTRAINTS ALL IMMEDIATE")
    op.alter_column('supplier_links', 'factory_seq', nullable=False)
    op.execute(SET_SEQ)
    op.execute(
        "CREATE TRIGGER supplier_links_factory_seq BEFORE INSERT OR UPDATE OF factory_id "
        "ON supplier_links FOR EACH ROW EXECUTE FUNCTION supplier_link_factory_seq()"
    )
    # an invariant of the data, like the append-only triggers: bulk loads keep it too
    op.execute("ALTER TABLE supplier_links ENABLE ALWAYS TRIGGER supplier_links_factory_seq")
    op.create_index('ix_supplier_links_buyer_factory_seq', 'supplier_links', ['buyer_org_id', 'factory_seq', 'id'], unique=False)


def downgrade() -> None:
    op.execute("DROP TRIGGER supplier_links_factory_seq ON supplier_links")
    op.execute("DROP FUNCTION supplier_link_factory_seq()")
    op.drop_index('ix_supplier_links_buyer_factory_seq', table_name='supplier_links')
    op.drop_column('supplier_links', 'factory_seq')
