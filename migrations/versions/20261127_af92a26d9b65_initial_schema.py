"""initial schema: the whole domain, pg_trgm, and the append-only ledger tables

Revision ID: af92a26d9b65
Revises: 
Create Date: 2026-11-27 19:07:33.934720+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'af92a26d9b65'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Tables whose rows, once written, are evidence: the consent ledger, its checkpoints, and the
# disclosure log. The triggers are ENABLE ALWAYS, so `session_replication_role = replica` (which
# skips ordinary triggers) does not switch them off, and they bind the table owner too.
APPEND_ONLY_TABLES = ("consent_log", "checkpoints", "disclosures")

REFUSE_CHANGE_FUNCTION = """
CREATE FUNCTION refuse_append_only_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table('checkpoints',
    sa.Column('tree_size', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('root_hash', sa.LargeBinary(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('key_id', sa.Text(), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('tree_size', name=op.f('pk_checkpoints'))
    )
    op.create_table('consent_log',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('event_id', sa.UUID(), nullable=False),
    sa.Column('event_type', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('consent_id', sa.UUID(), nullable=True),
    sa.Column('factory_id', sa.UUID(), nullable=True),
    sa.Column('buyer_org_id', sa.UUID(), nullable=True),
    sa.Column('actor_id', sa.UUID(), nullable=True),
    sa.Column('scopes', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('leaf', sa.LargeBinary(), nullable=False),
    sa.Column('leaf_hash', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_consent_log')),
    sa.UniqueConstraint('event_id', name=op.f('uq_consent_log_event_id'))
    )
    op.create_index('ix_consent_log_buyer_seq', 'consent_log', ['buyer_org_id', 'seq'], unique=False)
    op.create_index('ix_consent_log_factory_seq', 'consent_log', ['factory_id', 'seq'], unique=False)
    op.create_table('disclosures',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('request_id', sa.Text(), nullable=False),
    sa.Column('buyer_org_id', sa.UUID(), nullable=False),
    sa.Column('factory_id', sa.UUID(), nullable=False),
    sa.Column('assessment_id', sa.UUID(), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('consent_ledger_seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosures'))
    )
    op.create_index('ix_disclosures_buyer_at', 'disclosures', ['buyer_org_id', 'at'], unique=False)
    op.create_index('ix_disclosures_factory_at', 'disclosures', ['factory_id', 'at'], unique=False)
    op.create_table('organizations',
    sa.Column('role', sa.Enum('BUYER', 'FACTORY', 'ASSESSOR', 'AUDITOR', 'ADMIN', name='role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organizations'))
    )
    op.create_table('questions',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('cluster', sa.Enum('CHILD_LABOUR', 'DISCRIMINATION', 'FORCED_LABOUR', 'FREEDOM_OF_ASSOCIATION', 'COMPENSATION', 'CONTRACTS_AND_HR', 'OSH', 'WORKING_TIME', name='cluster', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('area', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_questions'))
    )
    op.create_table('factories',
    sa.Column('seq', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('hub_id', sa.String(length=16), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('sector', sa.Text(), nullable=True),
    sa.Column('worker_count', sa.Integer(), nullable=True),
    sa.Column('os_id', sa.Text(), nullable=True),
    sa.Column('registration_number', sa.Text(), nullable=True),
    sa.Column('claimed_by_org_id', sa.UUID(), nullable=True),
    sa.Column('merged_into_id', sa.UUID(), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['claimed_by_org_id'], ['organizations.id'], name=op.f('fk_factories_claimed_by_org_id_organizations')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['factories.id'], name=op.f('fk_factories_merged_into_id_factories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_factories')),
    sa.UniqueConstraint('claimed_by_org_id', name=op.f('uq_factories_claimed_by_org_id')),
    sa.UniqueConstraint('hub_id', name=op.f('uq_factories_hub_id')),
    sa.UniqueConstraint('os_id', name=op.f('uq_factories_os_id')),
    sa.UniqueConstraint('seq', name=op.f('uq_factories_seq'))
    )
    op.create_index('ix_factories_country_seq', 'factories', ['country', 'seq'], unique=False)
    op.create_index('ix_factories_name_trgm', 'factories', ['name'], unique=False, postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})
    op.create_index('uq_factories_country_registration_number', 'factories', ['country', 'registration_number'], unique=True, postgresql_where=sa.text('registration_number IS NOT NULL'))
    op.create_table('oauth_clients',
    sa.Column('client_id', sa.Text(), nullable=False),
    sa.Column('secret_hash', sa.Text(), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_oauth_clients_org_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_clients')),
    sa.UniqueConstraint('client_id', name=op.f('uq_oauth_clients_client_id'))
    )
    op.create_index(op.f('ix_oauth_clients_org_id'), 'oauth_clients', ['org_id'], unique=False)
    op.create_table('question_legal_references',
    sa.Column('question_code', sa.String(length=32), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('reference', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['question_code'], ['questions.code'], name=op.f('fk_question_legal_references_question_code_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('question_code', 'country', name=op.f('pk_question_legal_references'))
    )
    op.create_table('assessments',
    sa.Column('factory_id', sa.UUID(), nullable=False),
    sa.Column('cycle', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('status', sa.Enum('DRAFT', 'PUBLISHED', name='assessment_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('assessed_at', sa.Date(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('assessor_org_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("cycle ~ '^[0-9]{4}-[1-9][0-9]*$'", name=op.f('ck_assessments_cycle_format')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_assessments_version_positive')),
    sa.ForeignKeyConstraint(['assessor_org_id'], ['organizations.id'], name=op.f('fk_assessments_assessor_org_id_organizations')),
    sa.ForeignKeyConstraint(['factory_id'], ['factories.id'], name=op.f('fk_assessments_factory_id_factories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments')),
    sa.UniqueConstraint('factory_id', 'cycle', 'version', name=op.f('uq_assessments_factory_id_cycle_version'))
    )
    op.create_table('consents',
    sa.Column('factory_id', sa.UUID(), nullable=False),
    sa.Column('buyer_org_id', sa.UUID(), nullable=False),
    sa.Column('status', sa.Enum('REQUESTED', 'GRANTED', 'DECLINED', 'REVOKED', 'EXPIRED', name='consent_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('scopes', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('declined_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ledger_seq', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['buyer_org_id'], ['organizations.id'], name=op.f('fk_consents_buyer_org_id_organizations')),
    sa.ForeignKeyConstraint(['factory_id'], ['factories.id'], name=op.f('fk_consents_factory_id_factories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents')),
    sa.UniqueConstraint('factory_id', 'buyer_org_id', name=op.f('uq_consents_factory_id_buyer_org_id'))
    )
    op.create_index('ix_consents_buyer_status', 'consents', ['buyer_org_id', 'status'], unique=False)
    op.create_table('supplier_links',
    sa.Column('buyer_org_id', sa.UUID(), nullable=False),
    sa.Column('factory_id', sa.UUID(), nullable=False),
    sa.Column('buyer_ref', sa.Text(), nullable=False),
    sa.Column('outcome', sa.Enum('MATCHED', 'CREATED', 'NEEDS_REVIEW', name='match_outcome', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['buyer_org_id'], ['organizations.id'], name=op.f('fk_supplier_links_buyer_org_id_organizations')),
    sa.ForeignKeyConstraint(['factory_id'], ['factories.id'], name=op.f('fk_supplier_links_factory_id_factories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier_links')),
    sa.UniqueConstraint('buyer_org_id', 'buyer_ref', name=op.f('uq_supplier_links_buyer_org_id_buyer_ref'))
    )
    op.create_index('ix_supplier_links_factory_buyer', 'supplier_links', ['factory_id', 'buyer_org_id'], unique=False)
    op.create_table('assessment_answers',
    sa.Column('assessment_id', sa.UUID(), nullable=False),
    sa.Column('question_code', sa.String(length=32), nullable=False),
    sa.Column('compliant', sa.Boolean(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_assessment_answers_assessment_id_assessments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_code'], ['questions.code'], name=op.f('fk_assessment_answers_question_code_questions')),
    sa.PrimaryKeyConstraint('assessment_id', 'question_code', name=op.f('pk_assessment_answers'))
    )
    op.create_table('assessment_requests',
    sa.Column('factory_id', sa.UUID(), nullable=False),
    sa.Column('status', sa.Enum('OPEN', 'FULFILLED', name='request_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('assessment_id', sa.UUID(), nullable=True),
    sa.Column('fulfilled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_assessment_requests_assessment_id_assessments')),
    sa.ForeignKeyConstraint(['factory_id'], ['factories.id'], name=op.f('fk_assessment_requests_factory_id_factories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_requests'))
    )
    op.create_index('uq_assessment_requests_open_factory', 'assessment_requests', ['factory_id'], unique=True, postgresql_where=sa.text("status = 'OPEN'"))
    op.create_table('improvement_actions',
    sa.Column('assessment_id', sa.UUID(), nullable=False),
    sa.Column('question_code', sa.String(length=32), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('PENDING', 'IN_PROGRESS', 'COMPLETED', name='action_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_improvement_actions_assessment_id_assessments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_code'], ['questions.code'], name=op.f('fk_improvement_actions_question_code_questions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_improvement_actions'))
    )
    op.create_index(op.f('ix_improvement_actions_assessment_id'), 'improvement_actions', ['assessment_id'], unique=False)
    op.create_table('assessment_request_buyers',
    sa.Column('request_id', sa.UUID(), nullable=False),
    sa.Column('buyer_org_id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['buyer_org_id'], ['organizations.id'], name=op.f('fk_assessment_request_buyers_buyer_org_id_organizations')),
    sa.ForeignKeyConstraint(['request_id'], ['assessment_requests.id'], name=op.f('fk_assessment_request_buyers_request_id_assessment_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('request_id', 'buyer_org_id', name=op.f('pk_assessment_request_buyers'))
    )
    op.execute(REFUSE_CHANGE_FUNCTION)
    for table in APPEND_ONLY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_refuse_row_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_refuse_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change()"
        )
        op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_refuse_row_change")
        op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_refuse_truncate")
        # the hub's role may read and append; nobody is granted UPDATE/DELETE/TRUNCATE
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM PUBLIC")


def downgrade() -> None:
    # dropping the tables drops their triggers; the function goes last
    op.drop_table('assessment_request_buyers')
    op.drop_index(op.f('ix_improvement_actions_assessment_id'), table_name='improvement_actions')
    op.drop_table('improvement_actions')
    op.drop_index('uq_assessment_requests_open_factory', table_name='assessment_requests', postgresql_where=sa.text("status = 'OPEN'"))
    op.drop_table('assessment_requests')
    op.drop_table('assessment_answers')
    op.drop_index('ix_supplier_links_factory_buyer', table_name='supplier_links')
    op.drop_table('supplier_links')
    op.drop_index('ix_consents_buyer_status', table_name='consents')
    op.drop_table('consents')
    op.drop_table('assessments')
    op.drop_table('question_legal_references')
    op.drop_index(op.f('ix_oauth_clients_org_id'), table_name='oauth_clients')
    op.drop_table('oauth_clients')
    op.drop_index('uq_factories_country_registration_number', table_name='factories', postgresql_where=sa.text('registration_number IS NOT NULL'))
    op.drop_index('ix_factories_name_trgm', table_name='factories', postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})
    op.drop_index('ix_factories_country_seq', table_name='factories')
    op.drop_table('factories')
    op.drop_table('questions')
    op.drop_table('organizations')
    op.drop_index('ix_disclosures_factory_at', table_name='disclosures')
    op.drop_index('ix_disclosures_buyer_at', table_name='disclosures')
    op.drop_table('disclosures')
    op.drop_index('ix_consent_log_factory_seq', table_name='consent_log')
    op.drop_index('ix_consent_log_buyer_seq', table_name='consent_log')
    op.drop_table('consent_log')
    op.drop_table('checkpoints')
    op.execute("DROP FUNCTION refuse_append_only_change()")
