-- Macros shared by the SQL files and available to analysts.
-- Wilson score interval (95%, z = 1.96) for k successes out of n trials; NULL when n = 0. Clamped to [0, 1]
-- because floating point gives -1e-17 for k = 0.
CREATE OR REPLACE MACRO wilson_low(k, n) AS
    CASE WHEN n > 0 THEN greatest(0.0,
        ((k / n) + 1.96 ^ 2 / (2 * n) - 1.96 * sqrt((k / n) * (1 - k / n) / n + 1.96 ^ 2 / (4 * n ^ 2)))
        / (1 + 1.96 ^ 2 / n))
    END;
CREATE OR REPLACE MACRO wilson_high(k, n) AS
    CASE WHEN n > 0 THEN least(1.0,
        ((k / n) + 1.96 ^ 2 / (2 * n) + 1.96 * sqrt((k / n) * (1 - k / n) / n + 1.96 ^ 2 / (4 * n ^ 2)))
        / (1 + 1.96 ^ 2 / n))
    END;
-- Repeat chains (docs/metrics.md): a contact continues the chain of the same customer and intent when it starts
-- after the previous contact's end and within window_days days of it. Used by contact outcomes, journeys, alerts.
CREATE OR REPLACE MACRO continues_chain(started_at, previous_end, window_days) AS
    previous_end IS NOT NULL
    AND started_at > previous_end
    AND started_at <= previous_end + to_days(CAST(window_days AS INTEGER));
-- The intent a contact is counted under: the source's label, else the triage model's prediction, else 'unknown'.
CREATE OR REPLACE MACRO contact_intent(labelled, predicted) AS coalesce(labelled, predicted, 'unknown');
-- The rows that belong to the customers whose pseudonyms are in the list customer_keys, as (id_column, id) pairs: a
-- row of any table is theirs when a column named id_column holds id. Their devices are the anonymous ids seen with
-- their customer_key, their conversations (also journey and alert subjects) and sessions (also alert subjects) are
-- read from every table that ties them to the customer, so that rows stay found after raw retention. Consent
-- (main.refused_records), publishing and erasure use it.
CREATE OR REPLACE MACRO customer_records(customer_keys) AS TABLE
WITH customers AS (
    SELECT DISTINCT customer_key FROM (SELECT unnest(customer_keys) AS customer_key) WHERE customer_key IS NOT NULL
),
devices AS (
    SELECT anonymous_key FROM raw.events WHERE customer_key IN (SELECT customer_key FROM customers)
    UNION SELECT anonymous_key FROM raw.telemetry WHERE customer_key IN (SELECT customer_key FROM customers)
    UNION SELECT anonymous_key FROM signals.session_friction WHERE customer_key IN (SELECT customer_key FROM customers)
),
conversations AS (
    SELECT conversation_id FROM raw.conversations WHERE customer_key IN (SELECT customer_key FROM customers)
    UNION SELECT conversation_id FROM signals.conversation_signals
    WHERE customer_key IN (SELECT customer_key FROM customers)
    UNION SELECT conversation_id FROM metrics.contact_outcomes
    WHERE customer_key IN (SELECT customer_key FROM customers)
),
sessions AS (
    SELECT session_key FROM signals.session_friction
    WHERE customer_key IN (SELECT customer_key FROM customers)
       OR anonymous_key IN (SELECT anonymous_key FROM devices)
)
SELECT 'customer_key' AS id_column, customer_key AS id FROM customers
UNION ALL SELECT 'anonymous_key', anonymous_key FROM devices WHERE anonymous_key IS NOT NULL
UNION ALL SELECT unnest(['conversation_id', 'journey_id', 'subject_id']), conversation_id FROM conversations
UNION ALL SELECT unnest(['session_key', 'subject_id']), session_key FROM sessions;
-- The records (rows with session_id, anonymous_key, ts: raw.events, raw.telemetry) that belong to sessions (rows with
-- session_key, anonymous_key, session_start, session_end, as signals.session_friction builds them), each with its
-- session_key before its own columns: a record with a session id is the session 'sid:' || session_id's, one without
-- is the anonymous session ('anon:' key) of its device whose span holds its ts. Both arguments name a relation (a
-- table or a CTE of the calling query), read once each: one join on the key a record and a session share, so that a
-- CTE passed in is not materialised for two joins.
CREATE OR REPLACE MACRO session_records(sessions, records) AS TABLE
SELECT s.session_key, r.*
FROM query_table(records) AS r
JOIN query_table(sessions) AS s
  ON coalesce('sid:' || r.session_id, 'anon:' || r.anonymous_key)
     = CASE WHEN starts_with(s.session_key, 'anon:') THEN 'anon:' || s.anonymous_key ELSE s.session_key END
 AND (r.session_id IS NOT NULL OR r.ts BETWEEN s.session_start AND s.session_end);
