"""assessment cluster summaries: per-cluster counts written with the answers, backfilled

Revision ID: c419f9d525fa
Revises: b493e46a2265
Create Date: 2026-11-27 21:41:54.731719+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'c419f9d525fa'
down_revision: str | None = 'b493e46a2265'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('assessment_cluster_summaries',
    sa.Column('assessment_id', sa.UUID(), nullable=False),
    sa.Column('cluster', sa.Enum('CHILD_LABOUR', 'DISCRIMINATION', 'FORCED_LABOUR', 'FREEDOM_OF_ASSOCIATION', 'COMPENSATION', 'CONTRACTS_AND_HR', 'OSH', 'WORKING_TIME', name='cluster', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('questions', sa.Integer(), nullable=False),
    sa.Column('noncompliant', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_assessment_cluster_summaries_assessment_id_assessments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('assessment_id', 'cluster', name=op.f('pk_assessment_cluster_summaries'))
    )
    # what AssessmentRepository.store_summaries computes for each new assessment
    op.execute(
        "INSERT INTO assessment_cluster_summaries (assessment_id, cluster, questions, noncompliant) "
        "SELECT a.assessment_id, q.cluster, count(*), count(*) FILTER (WHERE NOT a.compliant) "
        "FROM assessment_answers a JOIN questions q ON q.code = a.question_code "
        "GROUP BY a.assessment_id, q.cluster"
    )
    op.execute(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON assessment_cluster_summaries "
        "TO compliance_hub_app"
    )


def downgrade() -> None:
    op.drop_table('assessment_cluster_summaries')
