-- metrics.defects: one row per day in [$start_date, $end_date] and defect - a recurring cause of contacts: a
-- telemetry error name (kind error or crash, or a log record at error or fatal severity), a page (where a form
-- error, a clickstream error or the session's first rage burst happened), an app version (any record of the
-- session), or an intent listed in $failure_demand_intents.
-- A session touches a defect when one of its records carries it (records are the session's by session id, else by
-- device and time within the session, as signals.session_friction built it). A contact is preceded by a defect when
-- a session of its customer touched it within $journeys_pre_contact_window_minutes minutes before the contact
-- started (from its first touch by the contact's start, its last touch within the window), as preceding_friction()
-- counts sessions; a failure intent precedes the contacts of that intent.
-- contacts_per_1000_sessions = contacts started that day it preceded / sessions started that day that touched it
-- (all the day's sessions for an intent) x 1000. Trend: against the mean over the previous $defects_baseline_days
-- days with data (days without the defect count 0): no_baseline (no earlier day with data), new (no contact in the
-- baseline), rising (above
-- $defects_trend_ratio x the mean), falling (below the mean / ratio), steady, or too_few (fewer than
-- $defects_min_contacts contacts on the day and in the mean). A row is written for a day when the defect preceded a
-- contact that day or in its baseline.
WITH bounds AS (
    SELECT
        CAST($start_date AS DATE) - CAST($defects_baseline_days AS INTEGER) AS first_day,
        CAST($start_date AS DATE) - CAST($defects_baseline_days AS INTEGER) - 1 AS first_session_day
),
sessions AS (
    SELECT partition_date, session_key, anonymous_key, customer_key, session_start, session_end,
        first_rage_click_page, first_rage_click_at
    FROM signals.session_friction
    WHERE partition_date BETWEEN (SELECT first_session_day FROM bounds) AND $end_date
      -- a refusal is sticky: sessions built before it are left out as signals.friction_alerts leaves them out
      AND coalesce(consented(customer_key), TRUE)
      AND session_key NOT IN (SELECT id FROM main.refused_records WHERE id_column = 'session_key')
),
-- the days' records, read by session_records() by name (query_table), which the linter does not see
window_events AS (  -- noqa: ST03
    SELECT * FROM raw.events
    WHERE partition_date BETWEEN (SELECT first_session_day FROM bounds) AND $end_date + INTERVAL 1 DAY
),
window_telemetry AS (  -- noqa: ST03
    SELECT * FROM raw.telemetry
    WHERE partition_date BETWEEN (SELECT first_session_day FROM bounds) AND $end_date + INTERVAL 1 DAY
),
session_events AS (
    SELECT session_key, ts, event_type, page, app_version FROM session_records('sessions', 'window_events')
),
session_telemetry AS (
    SELECT session_key, ts, kind, severity, name, app_version FROM session_records('sessions', 'window_telemetry')
),
touch_records AS (
    SELECT session_key, 'error' AS defect_type, name AS defect, ts
    FROM session_telemetry
    WHERE kind IN ('error', 'crash') OR (kind IN ('log', 'event') AND severity IN ('error', 'fatal'))
    UNION ALL
    SELECT session_key, 'page' AS defect_type, page AS defect, ts
    FROM session_events
    WHERE event_type IN ('form_error', 'error') AND page IS NOT NULL
    UNION ALL
    SELECT session_key, 'page' AS defect_type, first_rage_click_page AS defect, first_rage_click_at AS ts
    FROM sessions
    WHERE first_rage_click_page IS NOT NULL
    UNION ALL
    SELECT session_key, 'app_version' AS defect_type, app_version AS defect, ts
    FROM session_events
    WHERE app_version IS NOT NULL
    UNION ALL
    SELECT session_key, 'app_version' AS defect_type, app_version AS defect, ts
    FROM session_telemetry
    WHERE app_version IS NOT NULL
),
touches AS (
    SELECT t.session_key, t.defect_type, t.defect, min(t.ts) AS first_at, max(t.ts) AS last_at,
        any_value(s.partition_date) AS session_day, any_value(s.customer_key) AS customer_key
    FROM touch_records AS t
    JOIN sessions AS s USING (session_key)
    GROUP BY t.session_key, t.defect_type, t.defect
),
session_versions AS (
    SELECT session_key, max(defect) AS app_version
    FROM touches
    WHERE defect_type = 'app_version'
    GROUP BY session_key
),
contacts AS (
    SELECT partition_date, conversation_id, customer_key, intent, started_at
    FROM metrics.contact_outcomes
    WHERE partition_date BETWEEN (SELECT first_day FROM bounds) AND $end_date
      AND consented(customer_key)
),
preceded AS (
    SELECT c.partition_date, t.defect_type, t.defect, count(DISTINCT c.conversation_id) AS contacts_preceded
    FROM contacts AS c
    JOIN touches AS t
      ON t.customer_key = c.customer_key
     AND t.first_at <= c.started_at
     AND t.last_at >= c.started_at - to_minutes(CAST($journeys_pre_contact_window_minutes AS INTEGER))
    GROUP BY ALL
    UNION ALL
    SELECT partition_date, 'intent' AS defect_type, intent AS defect, count(*) AS contacts_preceded
    FROM contacts
    WHERE list_contains(CAST($failure_demand_intents AS VARCHAR[]), intent)
    GROUP BY ALL
),
failure_intents AS (
    SELECT unnest(CAST($failure_demand_intents AS VARCHAR[])) AS intent
),
version_counts AS (
    SELECT t.session_day AS partition_date, t.defect_type, t.defect, v.app_version, count(*) AS sessions
    FROM touches AS t
    LEFT JOIN session_versions AS v USING (session_key)
    GROUP BY ALL
),
touched AS (
    SELECT partition_date, defect_type, defect,
        sum(sessions) AS sessions_touched,
        first(app_version ORDER BY sessions DESC, app_version DESC) FILTER (WHERE app_version IS NOT NULL)
            AS top_app_version,  -- ties: the highest version, so that the result does not depend on row order
        max(sessions) FILTER (WHERE app_version IS NOT NULL)
            / nullif(sum(sessions) FILTER (WHERE app_version IS NOT NULL), 0) AS top_app_version_share
    FROM version_counts
    GROUP BY ALL
    UNION ALL
    SELECT s.partition_date, 'intent' AS defect_type, i.intent AS defect, count(*) AS sessions_touched,
        NULL AS top_app_version, NULL AS top_app_version_share
    FROM sessions AS s
    CROSS JOIN failure_intents AS i
    GROUP BY ALL
),
daily AS (
    SELECT
        partition_date, defect_type, defect,
        coalesce(p.contacts_preceded, 0) AS contacts_preceded,
        coalesce(t.sessions_touched, 0) AS sessions_touched,
        t.top_app_version,
        t.top_app_version_share
    FROM preceded AS p
    FULL JOIN touched AS t USING (partition_date, defect_type, defect)
    WHERE partition_date >= (SELECT first_day FROM bounds)
),
data_days AS (
    SELECT DISTINCT partition_date FROM sessions WHERE partition_date >= (SELECT first_day FROM bounds)
    UNION
    SELECT DISTINCT partition_date FROM contacts
),
causes AS (
    SELECT DISTINCT defect_type, defect FROM daily WHERE contacts_preceded > 0
),
grid AS (
    SELECT d.partition_date, l.defect_type, l.defect
    FROM data_days AS d
    CROSS JOIN causes AS l
    WHERE d.partition_date BETWEEN $start_date AND $end_date
),
baselines AS (
    SELECT g.partition_date, g.defect_type, g.defect,
        count(*) AS baseline_days,
        coalesce(sum(b.contacts_preceded), 0) AS baseline_contacts,
        coalesce(sum(b.sessions_touched), 0) AS baseline_sessions
    FROM grid AS g
    JOIN data_days AS d
      ON d.partition_date BETWEEN g.partition_date - CAST($defects_baseline_days AS INTEGER) AND g.partition_date - 1
    LEFT JOIN daily AS b
      ON b.partition_date = d.partition_date AND b.defect_type = g.defect_type AND b.defect = g.defect
    GROUP BY ALL
),
measured AS (
    SELECT
        g.partition_date, g.defect_type, g.defect,
        coalesce(t.contacts_preceded, 0) AS contacts_preceded,
        coalesce(t.sessions_touched, 0) AS sessions_touched,
        t.top_app_version,
        t.top_app_version_share,
        coalesce(b.baseline_days, 0) AS baseline_days,
        coalesce(b.baseline_contacts, 0) AS baseline_contacts,
        coalesce(b.baseline_sessions, 0) AS baseline_sessions,
        b.baseline_contacts / nullif(b.baseline_days, 0) AS baseline_contacts_per_day
    FROM grid AS g
    LEFT JOIN daily AS t USING (partition_date, defect_type, defect)
    LEFT JOIN baselines AS b USING (partition_date, defect_type, defect)
    WHERE coalesce(t.contacts_preceded, 0) > 0 OR coalesce(b.baseline_contacts, 0) > 0
)
SELECT
    partition_date,
    defect_type,
    defect,
    contacts_preceded,
    sessions_touched,
    1000.0 * contacts_preceded / nullif(sessions_touched, 0) AS contacts_per_1000_sessions,
    top_app_version,
    top_app_version_share,
    baseline_days,
    baseline_contacts_per_day,
    1000.0 * baseline_contacts / nullif(baseline_sessions, 0) AS baseline_contacts_per_1000_sessions,
    100.0 * (contacts_preceded - baseline_contacts_per_day) / nullif(baseline_contacts_per_day, 0) AS change_pct,
    CASE
        WHEN baseline_days = 0 THEN 'no_baseline'
        WHEN greatest(contacts_preceded, coalesce(baseline_contacts_per_day, 0)) < $defects_min_contacts THEN 'too_few'
        WHEN baseline_contacts = 0 THEN 'new'
        WHEN contacts_preceded > $defects_trend_ratio * baseline_contacts_per_day THEN 'rising'
        WHEN contacts_preceded < baseline_contacts_per_day / $defects_trend_ratio THEN 'falling'
        ELSE 'steady'
    END AS trend
FROM measured
