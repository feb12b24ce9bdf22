"""consent append in one statement: lock, append the event, update the consent row in one call

Revision ID: 8c2f4e61a0d3
Revises: 5d1c0a7e9b21
Create Date: 2026-12-04 04:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = '8c2f4e61a0d3'
down_revision: str | None = '5d1c0a7e9b21'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A consent change held the ledger lock across six round trips (lock, read the head, insert the
# leaf, update the row, write the outbox event, commit); a busy worker's event loop stretched
# each of them, and every other writer waited. This is the ledger part in one call, so the lock
# is held for this call and the COMMIT. hub.ledger.repository.LedgerRepository.append_consent
# calls it; it must build the very bytes hub.ledger.events.leaf_bytes builds
# (tests/ledger/test_append_in_sql.py holds them equal): the type line, then RFC 8785 JSON of
# ids, scopes (sorted by the caller), times in UTC with microseconds, and the caller's nonce.
# Each statement of a VOLATILE function takes a new snapshot, so the head is read after the
# lock is granted, as hub.ledger.repository says it must be.
# The consent row becomes the state after the event (the lifecycle in hub.consent.service's
# docstring) and is returned, so the caller needs no second statement to know it.
APPEND = """
CREATE FUNCTION consent_log_append(
    p_ledger_lock bigint, p_channel text, p_type_line bytea, p_type text, p_event uuid,
    p_nonce text, p_consent uuid, p_factory uuid, p_buyer uuid, p_actor uuid, p_scopes text[],
    p_expires timestamptz, p_reason text
) RETURNS consents LANGUAGE plpgsql AS $$
DECLARE
    v_seq bigint;
    v_at timestamptz;
    v_leaf bytea;
    v_row consents;
BEGIN
    PERFORM pg_advisory_xact_lock(p_ledger_lock);
    SELECT l.seq, l.at INTO v_seq, v_at FROM consent_log l ORDER BY l.seq DESC LIMIT 1;
    v_seq := coalesce(v_seq + 1, 0);
    v_at := greatest(clock_timestamp(), v_at);  -- time never goes back; greatest skips NULL
    v_leaf := p_type_line || convert_to(
        '{"actor":' || to_json(p_actor::text)::text
        || ',"at":' || to_json(to_char(v_at AT TIME ZONE 'UTC',
                                       'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'))::text
        || ',"buyer":' || to_json(p_buyer::text)::text
        || ',"consent":' || to_json(p_consent::text)::text
        || ',"expiresAt":' || coalesce(to_json(to_char(p_expires AT TIME ZONE 'UTC',
                                       'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'))::text, 'null')
        || ',"factory":' || to_json(p_factory::text)::text
        || ',"id":' || to_json(p_event::text)::text
        || ',"nonce":' || to_json(p_nonce)::text
        || ',"scopes":' || array_to_json(p_scopes)::text
        || ',"seq":' || v_seq::text
        || ',"type":' || to_json(p_type)::text
        || '}', 'UTF8');
    INSERT INTO consent_log (seq, event_id, event_type, at, consent_id, factory_id,
                             buyer_org_id, actor_id, scopes, expires_at, leaf, leaf_hash)
        VALUES (v_seq, p_event, p_type, v_at, p_consent, p_factory, p_buyer, p_actor,
                p_scopes, p_expires, v_leaf, sha256('\\x00'::bytea || v_leaf));
    IF p_reason IS NOT NULL THEN
        INSERT INTO consent_event_reasons (seq, reason) VALUES (v_seq, p_reason);
    END IF;
    PERFORM pg_notify(p_channel, v_seq::text);  -- delivered if and when the caller commits
    UPDATE consents SET
        status = p_type,
        ledger_seq = v_seq,
        updated_at = v_at,
        scopes = CASE WHEN p_type IN ('REQUESTED', 'GRANTED') THEN p_scopes ELSE scopes END,
        requested_at = CASE WHEN p_type = 'REQUESTED' THEN v_at ELSE requested_at END,
        granted_at = CASE WHEN p_type = 'GRANTED' THEN v_at ELSE granted_at END,
        expires_at = CASE WHEN p_type = 'GRANTED' THEN p_expires ELSE expires_at END,
        revoked_at = CASE p_type WHEN 'GRANTED' THEN NULL WHEN 'REVOKED' THEN v_at
                     ELSE revoked_at END,
        declined_at = CASE WHEN p_type = 'DECLINED' THEN v_at ELSE declined_at END,
        -- EXPIRED keeps the grant's scopes, expiry and reason as they were, for the record
        reason = CASE WHEN p_type IN ('REQUESTED', 'GRANTED') THEN NULL
                      WHEN p_type IN ('DECLINED', 'REVOKED') THEN p_reason ELSE reason END
        WHERE id = p_consent
        RETURNING * INTO v_row;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no consent %', p_consent USING ERRCODE = 'no_data_found';
    END IF;
    RETURN v_row;
END $$
"""


def upgrade() -> None:
    op.execute(APPEND)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION consent_log_append(bigint, text, bytea, text, uuid, text, uuid, uuid,"
        " uuid, uuid, text[], timestamptz, text)"
    )
