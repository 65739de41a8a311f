-- metrics.time_to_value: one row per day D in [$start_date, $end_date] holding sessions, contacts or events x
-- cohort week x journey ('all' and each) x channel ('all' and each), measured as of the end of D. The customers of
-- D are those whose first start event
-- ($time_to_value_start_events: session, contact or a raw.events event_type) falls in the $time_to_value_window_days
-- days ending on D; their time to value runs from that start to their first value event at or after it
-- ($time_to_value_value_events: resolved_contact or a raw.events event_type) up to the end of D. A customer without
-- value yet is open: right-censored at the end of D, never dropped. Medians and p90 are Kaplan-Meier estimates
-- (the first time at which the estimated share still without value falls to 0.5 or 0.1; null while it has not),
-- beside the share who reached value within $time_to_value_reached_within_days days among those observed that long.
-- Journey: the intent of the customer's first contact at or after the start ('none' without one); channel: the
-- start's channel (the contact's channel, 'digital' for sessions and events).
WITH first_day AS (
    SELECT CAST($start_date AS DATE) - (CAST($time_to_value_window_days AS INTEGER) - 1) AS first_day
),
contacts AS (
    SELECT customer_key, conversation_id, channel, intent, disposition, started_at, ended_at
    FROM metrics.contact_outcomes
    WHERE partition_date BETWEEN (SELECT first_day FROM first_day) AND $end_date
      AND consented(customer_key)
),
start_events AS (
    SELECT customer_key, session_start AS event_at, 'session' AS start_event, 'digital' AS channel
    FROM signals.session_friction
    WHERE list_contains(CAST($time_to_value_start_events AS VARCHAR[]), 'session')
      AND customer_key IS NOT NULL AND consented(customer_key)
      AND partition_date BETWEEN (SELECT first_day FROM first_day) AND $end_date
    UNION ALL
    SELECT customer_key, started_at AS event_at, 'contact' AS start_event, channel
    FROM contacts
    WHERE list_contains(CAST($time_to_value_start_events AS VARCHAR[]), 'contact')
    UNION ALL
    SELECT customer_key, ts AS event_at, event_type AS start_event, 'digital' AS channel
    FROM raw.events
    WHERE list_contains(CAST($time_to_value_start_events AS VARCHAR[]), event_type)
      AND customer_key IS NOT NULL AND consented(customer_key)
      AND partition_date BETWEEN (SELECT first_day FROM first_day) AND $end_date
),
value_events AS (
    SELECT customer_key, ended_at AS event_at
    FROM contacts
    WHERE disposition = 'resolved' AND list_contains(CAST($time_to_value_value_events AS VARCHAR[]), 'resolved_contact')
    UNION ALL
    SELECT customer_key, ts AS event_at
    FROM raw.events
    WHERE list_contains(CAST($time_to_value_value_events AS VARCHAR[]), event_type)
      AND customer_key IS NOT NULL AND consented(customer_key)
      AND partition_date BETWEEN (SELECT first_day FROM first_day) AND $end_date
),
days AS (
    -- the days holding sessions, contacts or events, not every calendar day of the range: a run's days need not be
    -- contiguous
    SELECT partition_date FROM signals.session_friction WHERE partition_date BETWEEN $start_date AND $end_date
    UNION
    SELECT partition_date FROM metrics.contact_outcomes WHERE partition_date BETWEEN $start_date AND $end_date
    UNION
    SELECT partition_date FROM raw.events WHERE partition_date BETWEEN $start_date AND $end_date
),
customer_days AS (
    SELECT
        customer_key,
        CAST(event_at AS DATE) AS day,
        min(event_at) AS start_at,
        arg_min(start_event, event_at) AS start_event,
        arg_min(channel, event_at) AS channel
    FROM start_events
    GROUP BY customer_key, CAST(event_at AS DATE)
),
starts AS (
    SELECT
        d.partition_date,
        c.customer_key,
        min(c.start_at) AS start_at,
        arg_min(c.start_event, c.start_at) AS start_event,
        arg_min(c.channel, c.start_at) AS channel
    FROM days AS d
    JOIN customer_days AS c
      ON c.day BETWEEN d.partition_date - (CAST($time_to_value_window_days AS INTEGER) - 1) AND d.partition_date
    GROUP BY d.partition_date, c.customer_key
),
reached AS (
    SELECT s.partition_date, s.customer_key, min(v.event_at) AS value_at
    FROM starts AS s
    JOIN value_events AS v
      ON v.customer_key = s.customer_key AND v.event_at >= s.start_at AND CAST(v.event_at AS DATE) <= s.partition_date
    GROUP BY s.partition_date, s.customer_key
),
journeys AS (
    SELECT s.partition_date, s.customer_key, arg_min(c.intent, c.started_at) AS journey
    FROM starts AS s
    JOIN contacts AS c
      ON c.customer_key = s.customer_key AND c.started_at >= s.start_at
     AND CAST(c.started_at AS DATE) <= s.partition_date
    GROUP BY s.partition_date, s.customer_key
),
measured AS (
    SELECT
        s.partition_date,
        CAST(date_trunc('week', s.start_at) AS DATE) AS cohort_week,
        coalesce(j.journey, 'none') AS journey,
        s.channel,
        r.value_at IS NOT NULL AS reached,
        epoch(coalesce(r.value_at, CAST(s.partition_date + 1 AS TIMESTAMP)) - s.start_at) / 86400.0 AS days,
        epoch(CAST(s.partition_date + 1 AS TIMESTAMP) - s.start_at) / 86400.0 AS observed_days
    FROM starts AS s
    LEFT JOIN reached AS r USING (partition_date, customer_key)
    LEFT JOIN journeys AS j USING (partition_date, customer_key)
),
grouped AS (
    -- each customer counts in its journey and channel, and in the 'all' rows of each
    SELECT
        partition_date, cohort_week, reached, days, observed_days,
        unnest([journey, journey, 'all', 'all']) AS journey,
        unnest([channel, 'all', channel, 'all']) AS channel
    FROM measured
),
event_times AS (
    SELECT partition_date, cohort_week, journey, channel, days,
        count(*) FILTER (WHERE reached) AS events, count(*) AS leaving
    FROM grouped
    GROUP BY ALL
),
at_risk AS (
    SELECT *,
        sum(leaving) OVER (PARTITION BY partition_date, cohort_week, journey, channel ORDER BY days DESC) AS at_risk
    FROM event_times
),
survival AS (
    SELECT *,
        CASE WHEN sum(CASE WHEN events = at_risk THEN 1 ELSE 0 END) OVER km > 0 THEN 0.0
             ELSE exp(sum(CASE WHEN events < at_risk THEN ln(1 - events / at_risk) ELSE 0 END) OVER km) END
            AS still_without_value
    FROM at_risk
    WINDOW km AS (PARTITION BY partition_date, cohort_week, journey, channel ORDER BY days)
),
quantiles AS (
    SELECT partition_date, cohort_week, journey, channel,
        min(days) FILTER (WHERE events > 0 AND still_without_value <= 0.5 + 1e-9) AS median_days,
        min(days) FILTER (WHERE events > 0 AND still_without_value <= 0.1 + 1e-9) AS p90_days
    FROM survival
    GROUP BY ALL
),
counts AS (
    SELECT partition_date, cohort_week, journey, channel,
        count(*) AS customers,
        count(*) FILTER (WHERE reached) AS reached_value,
        count(*) FILTER (WHERE observed_days >= $time_to_value_reached_within_days) AS observed_n_days,
        count(*) FILTER (WHERE observed_days >= $time_to_value_reached_within_days
                           AND reached AND days <= $time_to_value_reached_within_days) AS reached_within_n_days
    FROM grouped
    GROUP BY ALL
)
SELECT
    c.partition_date,
    c.cohort_week,
    c.journey,
    c.channel,
    c.customers,
    c.reached_value,
    c.customers - c.reached_value AS open_customers,
    q.median_days AS median_days_to_value,
    q.p90_days AS p90_days_to_value,
    c.observed_n_days,
    c.reached_within_n_days,
    c.reached_within_n_days / nullif(c.observed_n_days, 0) AS reached_within_n_days_share,
    wilson_low(c.reached_within_n_days, c.observed_n_days) AS reached_within_n_days_low,
    wilson_high(c.reached_within_n_days, c.observed_n_days) AS reached_within_n_days_high
FROM counts AS c
JOIN quantiles AS q USING (partition_date, cohort_week, journey, channel)
