-- Contacts, repeat chains, pre-contact friction and the alerts of a trailing window, defined once (working file only,
-- after consent.sql) for metrics.contact_outcomes, signals.journeys, signals.friction_alerts and the alert metrics.
-- Macro arguments are the days read (first_day, last_day) and the windows that the calling file binds from its
-- parameters.

-- The contacts (conversations) of consented customers started on a day in [first_day, last_day]: every column of
-- signals.conversation_signals, the intent they are counted under (contact_intent) and where it comes from.
CREATE OR REPLACE MACRO contacts(first_day, last_day) AS TABLE
SELECT
    s.*,
    contact_intent(s.labelled_intent, p.predicted_intent) AS intent,
    CASE WHEN s.labelled_intent IS NOT NULL THEN 'label'
         WHEN p.predicted_intent IS NOT NULL THEN 'model' ELSE 'none' END AS intent_source
FROM signals.conversation_signals AS s
LEFT JOIN signals.intent_predictions AS p USING (conversation_id)
WHERE s.partition_date BETWEEN first_day AND last_day
  AND consented(s.customer_key);

-- Repeat chains (docs/metrics.md): the contacts of [first_day, last_day], each with the end of the previous contact
-- of its customer and intent (previous_end) and its chain_number within them: a contact continues the chain when it
-- starts after the previous end and within window_days days of it (continues_chain), else it starts a new one.
-- A chain is (customer_key, intent, chain_number); the days read must reach far enough back to find its start.
CREATE OR REPLACE MACRO repeat_chains(first_day, last_day, window_days) AS TABLE
SELECT *,
    sum(CASE WHEN continues_chain(started_at, previous_end, window_days) THEN 0 ELSE 1 END)
        OVER (PARTITION BY customer_key, intent ORDER BY started_at, conversation_id) AS chain_number
FROM (
    SELECT *,
        lag(ended_at) OVER (PARTITION BY customer_key, intent ORDER BY started_at, conversation_id) AS previous_end
    FROM contacts(first_day, last_day)
);

-- Journeys: the repeat chains of the contacts started on a day in [first_day, last_day], each contact with its
-- journey's id (the chain's first conversation_id), start and its position in the chain (1 = first contact).
CREATE OR REPLACE MACRO journey_contacts(first_day, last_day, window_days) AS TABLE
SELECT *,
    first_value(conversation_id) OVER chain AS journey_id,
    first_value(started_at) OVER chain AS journey_started_at,
    row_number() OVER chain AS position
FROM repeat_chains(first_day, last_day, window_days)
WINDOW chain AS (PARTITION BY customer_key, intent, chain_number ORDER BY started_at, conversation_id);

-- Pre-contact sessions: one row per consented contact started on a day in [first_day, last_day] and session of its
-- customer (signals.session_friction, with or without friction) that started by the contact's start and was active
-- within window_minutes minutes before it. The session's customer is the stitched one, so a session browsed logged
-- out on a device that logged in as the customer counts (sql/setup/identity.sql). Sessions are read from the day
-- before the window (a session spans midnight).
CREATE OR REPLACE MACRO preceding_sessions(first_day, last_day, window_minutes) AS TABLE
SELECT
    c.conversation_id, c.started_at,
    f.session_key, f.session_start, f.session_end, f.friction_score, f.had_friction, f.errors, f.crashes
FROM signals.conversation_signals AS c
JOIN signals.session_friction AS f
  ON f.customer_key = c.customer_key
 AND f.session_start <= c.started_at
 AND f.session_end >= c.started_at - to_minutes(CAST(window_minutes AS INTEGER))
WHERE c.partition_date BETWEEN first_day AND last_day
  AND consented(c.customer_key)
  AND f.partition_date BETWEEN CAST(first_day - to_minutes(CAST(window_minutes AS INTEGER)) - INTERVAL 1 DAY AS DATE)
                           AND last_day;

-- Pre-contact friction ("failure demand"): the pre-contact sessions (preceding_sessions) with friction
-- (signals.session_friction, had_friction).
CREATE OR REPLACE MACRO preceding_friction(first_day, last_day, window_minutes) AS TABLE
SELECT conversation_id, started_at, session_key, session_start, session_end, friction_score
FROM preceding_sessions(first_day, last_day, window_minutes)
WHERE had_friction;

-- Next issues: every contact started on a day in [first_day, last_day] with the first later contact of its customer
-- (any channel) whose intent is another known one, starting after this contact's end and within window_days days of
-- it (the repeat window's rule, continues_chain), or nulls when there is none. A contact counted under 'unknown' has
-- no next issue and is no one's: an unknown intent cannot be said to differ. Contacts are read up to window_days
-- days after last_day.
CREATE OR REPLACE MACRO next_issues(first_day, last_day, window_days) AS TABLE
WITH later AS (
    SELECT conversation_id, customer_key, intent, started_at
    FROM contacts(first_day, CAST(last_day + to_days(CAST(window_days AS INTEGER)) AS DATE))
    WHERE intent <> 'unknown'
),
contacts_of_days AS (
    SELECT c.partition_date, c.conversation_id, c.customer_key, c.channel, c.intent, c.started_at, c.ended_at
    FROM contacts(first_day, last_day) AS c
),
next_contacts AS (
    -- an inner join on the customer, then the contacts without one joined back: with the left side's own condition
    -- (a known intent) in a LEFT JOIN's ON, DuckDB compared every contact with every later one (a nested loop)
    SELECT
        c.conversation_id,
        arg_min(n.conversation_id, (n.started_at, n.conversation_id)) AS next_conversation_id,
        arg_min(n.intent, (n.started_at, n.conversation_id)) AS next_intent,
        min(n.started_at) AS next_started_at
    FROM contacts_of_days AS c
    JOIN later AS n
      ON n.customer_key = c.customer_key
     AND n.intent <> c.intent
     AND continues_chain(n.started_at, c.ended_at, window_days)
    WHERE c.intent <> 'unknown'
    GROUP BY c.conversation_id
)
SELECT c.*, x.next_conversation_id, x.next_intent, x.next_started_at
FROM contacts_of_days AS c
LEFT JOIN next_contacts AS x USING (conversation_id);

-- The alerts of signals.friction_alerts raised in the window_days days ending on each day of [first_day, last_day]
-- that has alerts (as_of), with every column of the alert; alerts of a customer who refused consent are left out,
-- those without a customer (anonymous sessions) kept. Alert precision and intervention effects read it.
CREATE OR REPLACE MACRO trailing_alerts(first_day, last_day, window_days) AS TABLE
SELECT d.partition_date AS as_of, a.*
FROM (
    SELECT DISTINCT partition_date
    FROM signals.friction_alerts
    WHERE partition_date BETWEEN first_day AND last_day
) AS d
JOIN signals.friction_alerts AS a
  ON a.partition_date BETWEEN d.partition_date - (CAST(window_days AS INTEGER) - 1) AND d.partition_date
WHERE a.partition_date BETWEEN CAST(first_day AS DATE) - (CAST(window_days AS INTEGER) - 1) AND last_day
  AND (a.customer_key IS NULL OR consented(a.customer_key));
