"""decision log append function (PostgreSQL)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 22:40:00

On PostgreSQL, appending to the decision log becomes one statement, so one round trip in
autocommit mode instead of three (lock and head, insert, commit): ``decision_log_append`` takes
the append lock, reads the head, chains the given payloads and inserts them, computing each
record hash exactly as :mod:`scoring.decision_log` defines it (SHA-256 of the record's canonical
JSON, assembled around the payload's canonical JSON text). SQLite appends as before.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ADVISORY_LOCK_KEY = 2417148761364612129
"""``finance_engine.services.decision_log.ADVISORY_LOCK_KEY`` when this revision was written
(a test checks they are equal)."""

APPEND_FUNCTION = f"""
CREATE FUNCTION decision_log_append(
    p_created_at text,
    p_payloads text[],
    p_application_ids text[],
    p_entity_ids text[],
    p_product_codes text[],
    p_outcomes text[]
) RETURNS TABLE (appended_sequence bigint, appended_prev_hash text, appended_hash text)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    v_sequence bigint;
    v_hash text;
    v_prev text;
    i integer;
BEGIN
    IF current_setting('server_encoding') <> 'UTF8' THEN
        RAISE EXCEPTION USING MESSAGE = 'decision_log_append: the database encoding must be '
            || 'UTF8, not ' || current_setting('server_encoding');
    END IF;
    IF p_created_at !~ '^[0-9T:.Z-]+$' THEN
        RAISE EXCEPTION USING MESSAGE = 'decision_log_append: created_at ' || p_created_at
            || ' is not an ISO 8601 UTC stamp';
    END IF;
    PERFORM pg_advisory_xact_lock({ADVISORY_LOCK_KEY});
    -- a new snapshot: READ COMMITTED gives each statement of a function its own, taken after
    -- the lock is held, so the head is the last committed record
    SELECT d.sequence, d.record_hash INTO v_sequence, v_hash
        FROM decision_log d ORDER BY d.sequence DESC LIMIT 1;
    IF NOT FOUND THEN
        v_sequence := 0;
        v_hash := repeat('0', 64);
    END IF;
    FOR i IN 1 .. coalesce(array_length(p_payloads, 1), 0) LOOP
        v_sequence := v_sequence + 1;
        v_prev := v_hash;
        v_hash := encode(sha256(convert_to(
            '{{"created_at":"' || p_created_at || '","payload":' || p_payloads[i]
            || ',"prev_hash":"' || v_prev || '","sequence":' || v_sequence || '}}',
            'UTF8')), 'hex');
        INSERT INTO decision_log (sequence, prev_hash, record_hash, created_at, payload,
                                  application_id, entity_id, product_code, outcome)
        VALUES (v_sequence, v_prev, v_hash, p_created_at, p_payloads[i],
                p_application_ids[i], p_entity_ids[i], p_product_codes[i], p_outcomes[i]);
        appended_sequence := v_sequence;
        appended_prev_hash := v_prev;
        appended_hash := v_hash;
        RETURN NEXT;
    END LOOP;
END
$fn$
"""

DROP_FUNCTION = "DROP FUNCTION decision_log_append(text, text[], text[], text[], text[], text[])"


def _run_on_postgresql(sql: str) -> None:
    """Run ``sql`` as it is (no bind-parameter parsing of its colons) on PostgreSQL only."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(sql)


def upgrade() -> None:
    _run_on_postgresql(APPEND_FUNCTION)


def downgrade() -> None:
    _run_on_postgresql(DROP_FUNCTION)
