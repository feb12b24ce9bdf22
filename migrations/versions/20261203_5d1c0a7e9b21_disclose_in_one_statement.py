"""disclose in one statement: lock, check and write a request's disclosure rows in one round trip

Revision ID: 5d1c0a7e9b21
Revises: ec7c51a24a20
Create Date: 2026-12-03 20:40:00+00:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = '5d1c0a7e9b21'
down_revision: str | None = 'ec7c51a24a20'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Every answer with protected content ran three statements before its COMMIT (share-lock the
# consent rows, take the digest lock and read the clock, insert the rows): this is the same
# work, in the same order, in one call (hub.disclosures.recorder says why the order matters).
# It writes either every row or none and returns how many it wrote; fewer than asked means a
# consent the answer relied on is no longer in force or in scope, and nothing was written.
# "In force" is hub.consent.service.is_in_force, against the clock read after the locks.
# SECURITY INVOKER (the default): it runs with the caller's privileges, the app role's.
DISCLOSE = """
CREATE FUNCTION disclose(
    p_buyer uuid, p_request text, p_factories uuid[], p_assessments uuid[], p_scopes text[],
    p_digest_lock bigint
) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_at timestamptz;
    v_wanted integer := cardinality(p_factories);
    v_allowed integer;
BEGIN
    PERFORM 1 FROM consents c
        WHERE c.buyer_org_id = p_buyer AND c.factory_id = ANY(p_factories)
        ORDER BY c.id FOR SHARE;
    PERFORM pg_advisory_xact_lock_shared(p_digest_lock);
    v_at := clock_timestamp();
    SELECT count(*) INTO v_allowed
        FROM unnest(p_factories, p_scopes) AS t(f, s)
        JOIN consents c ON c.buyer_org_id = p_buyer AND c.factory_id = t.f
        WHERE c.status = 'GRANTED' AND (c.expires_at IS NULL OR v_at < c.expires_at)
          AND t.s = ANY(c.scopes);
    IF v_allowed < v_wanted THEN
        RETURN v_allowed;
    END IF;
    INSERT INTO disclosures (at, request_id, buyer_org_id, factory_id, assessment_id, scope,
                             consent_ledger_seq)
        SELECT v_at, p_request, p_buyer, t.f, t.a, t.s, c.ledger_seq
        FROM unnest(p_factories, p_assessments, p_scopes) WITH ORDINALITY AS t(f, a, s, n)
        JOIN consents c ON c.buyer_org_id = p_buyer AND c.factory_id = t.f
        ORDER BY t.n;
    RETURN v_wanted;
END $$
"""


def upgrade() -> None:
    op.execute(DISCLOSE)


def downgrade() -> None:
    op.execute("DROP FUNCTION disclose(uuid, text, uuid[], uuid[], text[], bigint)")
