-- signals.session_friction: one row per web/app session that started on a day in [$start_date, $end_date].
-- Sessions come from session_id, or, when it is absent, from $sessions_inactivity_minutes of inactivity per
-- anonymous id (as GA4, PostHog and Snowplow do). Events from the day before and after are read so that a
-- session spanning midnight is whole. Detectors follow PostHog and Datadog (rage, dead clicks, with their fixes
-- of false positives: docs/signals.md), Sentry (error clicks) and Apdex (slow = latency above 4T).
-- The session's customer: the last customer its events, else its telemetry, carried (customer_key_source
-- 'session'); without one, the customer its device logged in as within $sessions_identity_lookback_days days of
-- the session's day, when that is one customer (device_customers, sql/setup/identity.sql: 'device'); a device that
-- logged in as several is shared and its session stays anonymous ('shared_device'), as does one that never logged
-- in ('none'). Every table that needs the customer of a session reads it here.
-- Errors: telemetry records of kind error, log records and events at error severity, and error events of the
-- clickstream (a JavaScript error a tracker reports, such as Snowplow's application_error); fatal log records are
-- crashes. An error reported both as telemetry and as an event counts twice.
WITH window_events AS (
    SELECT *
    FROM raw.events
    WHERE partition_date BETWEEN $start_date - INTERVAL 1 DAY AND $end_date + INTERVAL 1 DAY
),
unsessioned AS (
    SELECT *,
        CASE WHEN lag(ts) OVER w IS NULL
               OR ts - lag(ts) OVER w > to_minutes(CAST($sessions_inactivity_minutes AS BIGINT))
             THEN 1 ELSE 0 END AS starts_session
    FROM window_events
    WHERE session_id IS NULL
    WINDOW w AS (PARTITION BY anonymous_key ORDER BY ts, event_id)
),
events AS (
    SELECT *, 'sid:' || session_id AS session_key
    FROM window_events
    WHERE session_id IS NOT NULL
    UNION ALL BY NAME
    -- keyed by the session's first event, so that the key is the same whichever days a run computes
    SELECT * EXCLUDE (starts_session, first_event_id),
        'anon:' || anonymous_key || ':' || last_value(first_event_id IGNORE NULLS) OVER (
            PARTITION BY anonymous_key ORDER BY ts, event_id
        ) AS session_key
    FROM (SELECT *, CASE WHEN starts_session = 1 THEN event_id END AS first_event_id FROM unsessioned)
),
sessions AS (
    SELECT
        session_key,
        any_value(session_id) AS session_id,
        any_value(anonymous_key) AS anonymous_key,
        last(customer_key ORDER BY ts, customer_key) FILTER (WHERE customer_key IS NOT NULL) AS customer_key,
        min(ts) AS session_start,
        max(ts) AS session_end,
        count(*) AS n_events,
        count(*) FILTER (WHERE event_type = 'page_view') AS page_views,
        count(*) FILTER (WHERE event_type = 'form_error') AS form_errors,
        count(*) FILTER (WHERE event_type = 'error') AS error_events,
        count(*) FILTER (WHERE event_type = 'help_view') AS help_views,
        count(*) FILTER (WHERE event_type = 'contact_start') AS contact_starts,
        count(*) FILTER (WHERE event_type = 'purchase') AS purchases,
        arg_min(page, ts) AS entry_page
    FROM events
    GROUP BY session_key
    HAVING CAST(min(ts) AS DATE) BETWEEN $start_date AND $end_date
),
clicks AS (
    -- what the clicked element is (raw.events element_*; unknown when the source does not record it):
    -- rage_exempt: a text input or text field, a stepper, or a control whose text or label has a word of
    --   $friction_rage_click_ignore_content (next/previous, +/-), clicked repeatedly on purpose (PostHog);
    -- on_link, on_field: links and form fields, whose clicks answer with nothing a page records (Datadog)
    SELECT session_key, event_id, ts, page, x, y,
        coalesce(tag = 'textarea'
                 OR (tag = 'input' AND list_contains($friction_text_input_types, coalesce(input_type, 'text')))
                 OR list_contains($friction_field_roles, role)
                 OR list_has_any(words, $friction_rage_click_ignore_content), FALSE) AS rage_exempt,
        coalesce(tag = 'a' OR role = 'link', FALSE) AS on_link,
        coalesce(tag IN ('textarea', 'select')
                 OR (tag = 'input' AND NOT list_contains($friction_button_input_types, coalesce(input_type, 'text')))
                 OR list_contains($friction_field_roles, role), FALSE) AS on_field,
        ts - lag(ts) OVER w < to_milliseconds(CAST($friction_rage_click_max_gap_ms AS BIGINT))
        AND abs(x - lag(x) OVER w) + abs(y - lag(y) OVER w) < $friction_rage_click_max_distance_px AS continues_burst
    FROM (
        SELECT *,
            lower(element_tag) AS tag,
            lower(element_type) AS input_type,
            lower(element_role) AS role,
            string_split_regex(lower(trim(element_text)), '\s+') AS words
        FROM events
        WHERE event_type = 'click' AND session_key IN (SELECT session_key FROM sessions)
    )
    WINDOW w AS (PARTITION BY session_key ORDER BY ts, event_id)
),
click_runs AS (
    SELECT *, sum(CASE WHEN coalesce(continues_burst, FALSE) THEN 0 ELSE 1 END)
        OVER (PARTITION BY session_key ORDER BY ts, event_id) AS run_id
    FROM clicks
),
selections AS (
    SELECT session_key, ts FROM events WHERE event_type = 'selection_change'
),
runs AS (
    SELECT session_key, run_id, count(*) AS burst_clicks, min(ts) AS burst_start, max(ts) AS burst_end,
        arg_min(page, ts) AS page, bool_or(rage_exempt) AS rage_exempt
    FROM click_runs
    GROUP BY session_key, run_id
),
bursts AS (
    -- a run of fast, close clicks is a rage burst unless one of its clicks is rage_exempt or the text selection
    -- changed between its first and last click (a double or triple click selecting text: Datadog)
    SELECT *
    FROM runs AS r
    WHERE burst_clicks >= $friction_rage_click_min_clicks
      AND NOT rage_exempt
      AND NOT EXISTS (
          SELECT 1 FROM selections AS s
          WHERE s.session_key = r.session_key AND s.ts BETWEEN r.burst_start AND r.burst_end
      )
),
responses AS (
    -- what answers a click within $friction_dead_click_window_ms: a new page, a DOM change or an input
    SELECT session_key, ts
    FROM events
    WHERE event_type IN ('page_view', 'page_leave', 'dom_change', 'input')
),
quick_responses AS (
    -- what answers a click only within $friction_dead_click_scroll_window_ms: a scroll or a selection change
    SELECT session_key, ts
    FROM events
    WHERE event_type IN ('scroll', 'selection_change')
),
window_telemetry AS (  -- noqa: ST03
    -- read by session_records() by name (query_table), which the linter does not see. A session's telemetry is the
    -- records of its session id: one without a session id is left out (docs/signals.md)
    SELECT *
    FROM raw.telemetry
    WHERE partition_date BETWEEN $start_date - INTERVAL 1 DAY AND $end_date + INTERVAL 1 DAY
      AND session_id IS NOT NULL
),
session_telemetry AS (
    SELECT session_key, ts, customer_key, duration_ms,
        CASE WHEN kind IN ('log', 'event') AND severity = 'fatal' THEN 'crash'
             WHEN kind IN ('log', 'event') AND severity = 'error' THEN 'error'
             ELSE kind END AS kind
    FROM session_records('sessions', 'window_telemetry')
),
errors AS (
    SELECT session_key, ts FROM session_telemetry WHERE kind = 'error'
    UNION ALL
    SELECT session_key, ts FROM events WHERE event_type = 'error'
),
click_outcomes AS (
    -- the session's first response after each click and first error at or after it: as-of joins, which find the
    -- nearest later row without pairing a click with every later row of its session
    SELECT
        r.session_key,
        r.run_id,
        b.run_id IS NOT NULL AS in_rage_burst,
        r.on_link OR r.on_field AS never_dead,
        x.ts AS next_response,
        q.ts AS next_quick_response,
        e.ts AS next_error,
        r.ts
    FROM click_runs AS r
    LEFT JOIN bursts AS b USING (session_key, run_id)
    ASOF LEFT JOIN responses AS x ON x.session_key = r.session_key AND x.ts > r.ts
    ASOF LEFT JOIN quick_responses AS q ON q.session_key = r.session_key AND q.ts > r.ts
    ASOF LEFT JOIN errors AS e ON e.session_key = r.session_key AND e.ts >= r.ts
),
click_summary AS (
    SELECT
        session_key,
        count(*) AS clicks,
        count(*) FILTER (WHERE NOT in_rage_burst AND NOT never_dead
            AND (next_response IS NULL
                 OR next_response - ts > to_milliseconds(CAST($friction_dead_click_window_ms AS BIGINT)))
            AND (next_quick_response IS NULL
                 OR next_quick_response - ts
                    > to_milliseconds(CAST($friction_dead_click_scroll_window_ms AS BIGINT)))) AS dead_clicks,
        count(*) FILTER (WHERE next_error IS NOT NULL
            AND next_error - ts <= to_milliseconds(CAST($friction_error_click_window_ms AS BIGINT))) AS error_clicks
    FROM click_outcomes
    GROUP BY session_key
),
page_views AS (
    SELECT session_key, page, ts,
        lag(page) OVER w AS previous_page,
        lead(page) OVER w AS next_page,
        lead(ts) OVER w AS next_ts
    FROM events
    WHERE event_type = 'page_view'
    WINDOW w AS (PARTITION BY session_key ORDER BY ts, event_id)
),
quick_backs AS (
    SELECT session_key, count(*) AS quick_backs
    FROM page_views
    WHERE previous_page IS NOT NULL AND next_page = previous_page AND next_page <> page
      AND next_ts - ts < to_seconds(CAST($friction_quick_back_seconds AS BIGINT))
    GROUP BY session_key
),
telemetry_summary AS (
    SELECT session_key,
        count(*) FILTER (WHERE kind = 'error') AS errors,
        count(*) FILTER (WHERE kind = 'crash') AS crashes,
        count(*) FILTER (WHERE kind = 'latency' AND duration_ms > 4 * $friction_apdex_t_ms) AS slow_pages,
        last(customer_key ORDER BY ts, customer_key) FILTER (WHERE customer_key IS NOT NULL) AS customer_key
    FROM session_telemetry
    GROUP BY session_key
),
burst_summary AS (
    SELECT session_key, count(*) AS rage_click_bursts, sum(burst_clicks) AS rage_clicks,
        min(burst_start) AS first_rage_click_at, arg_min(page, burst_start) AS first_rage_click_page
    FROM bursts
    GROUP BY session_key
),
parts AS (
    SELECT
        CAST(s.session_start AS DATE) AS partition_date,
        s.session_key,
        s.session_id,
        s.anonymous_key,
        coalesce(s.customer_key, t.customer_key, i.customer_key) AS customer_key,
        CASE WHEN coalesce(s.customer_key, t.customer_key) IS NOT NULL THEN 'session'
             WHEN i.customer_key IS NOT NULL THEN 'device'
             WHEN i.customers > 1 THEN 'shared_device'
             ELSE 'none' END AS customer_key_source,
        s.session_start,
        s.session_end,
        epoch(s.session_end - s.session_start) AS duration_seconds,
        s.n_events,
        s.page_views,
        s.entry_page,
        coalesce(c.clicks, 0) AS clicks,
        coalesce(b.rage_click_bursts, 0) AS rage_click_bursts,
        coalesce(b.rage_clicks, 0) AS rage_clicks,
        b.first_rage_click_at,
        b.first_rage_click_page,
        coalesce(c.dead_clicks, 0) AS dead_clicks,
        coalesce(c.error_clicks, 0) AS error_clicks,
        s.form_errors,
        coalesce(q.quick_backs, 0) AS quick_backs,
        coalesce(t.slow_pages, 0) AS slow_pages,
        coalesce(t.crashes, 0) AS crashes,
        coalesce(t.errors, 0) + s.error_events AS errors,
        s.help_views,
        s.contact_starts,
        s.purchases
    FROM sessions AS s
    LEFT JOIN click_summary AS c USING (session_key)
    LEFT JOIN burst_summary AS b USING (session_key)
    LEFT JOIN quick_backs AS q USING (session_key)
    LEFT JOIN telemetry_summary AS t USING (session_key)
    LEFT JOIN device_customers($start_date, $end_date, $sessions_identity_lookback_days) AS i
      ON i.anonymous_key = s.anonymous_key AND i.day = CAST(s.session_start AS DATE)
),
scored AS (
    SELECT *,
        $friction_score_weights_rage_clicks * rage_click_bursts
            + $friction_score_weights_dead_clicks * dead_clicks
            + $friction_score_weights_error_clicks * error_clicks
            + $friction_score_weights_form_errors * form_errors
            + $friction_score_weights_quick_backs * quick_backs
            + $friction_score_weights_slow_pages * slow_pages
            + $friction_score_weights_crashes * crashes
            + $friction_score_weights_errors * errors
            + $friction_score_weights_help_views * help_views AS friction_score
    FROM parts
)
-- customers who refuse analytics consent, and the devices they used (main.refused_records): a session of theirs is
-- left out even when they were logged out, and so is every session of a device they shared with others
-- a session had friction when its score reaches the threshold, but rage bursts alone only when there are at least
-- $friction_session_min_rage_bursts of them (PostHog stopped counting a session with one rage click and nothing else)
SELECT *,
    friction_score >= $friction_session_friction_threshold
    AND (rage_click_bursts = 0
         OR rage_click_bursts >= $friction_session_min_rage_bursts
         OR friction_score > $friction_score_weights_rage_clicks * rage_click_bursts) AS had_friction
FROM scored
WHERE coalesce(consented(customer_key), TRUE)
  AND coalesce(anonymous_key NOT IN (SELECT id FROM main.refused_records WHERE id_column = 'anonymous_key'), TRUE)
