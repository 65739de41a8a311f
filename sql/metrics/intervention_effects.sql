-- metrics.intervention_effects: one row per day in [$start_date, $end_date] holding alerts x alert rule (and 'all'),
-- comparing the alerted journeys operators acted on with the held-out ones (signals.friction_alerts.held_out), over
-- the journeys first alerted (by that rule; 'all': by any rule) in the $interventions_window_days days ending on the
-- day, with their outcomes as seen by the end of the day. Session alerts (no journey) are left out.
--   arm: held_out when the journey is in the hold-out (whatever was done: intention to treat); acted when it is not
--     and raw.actions holds an action on it (by journey_id, conversation_id's journey or alert_id's journey) at or
--     after its first alert; not_acted otherwise (counted, not compared).
--   repeat: a contact of the journey (metrics.contact_outcomes.chain_id) starting after the first alert and within
--     $outcomes_repeat_window_days days of it. Rate per arm with its 95% Wilson interval; the difference (acted -
--     held out) with Newcombe's hybrid score interval (method 10, built from the two Wilson intervals).
--   hours_to_resolve: first alert to the end of the journey's resolving contact (its last contact so far has
--     disposition resolved), resolved journeys only. cost_to_resolve: cost of the journey's contacts ending at or
--     after the first alert (what acting can save). Means with normal-approximation 95% intervals (mean +- 1.96
--     sd / sqrt(n), n >= 2); the difference with the Welch normal interval (+- 1.96 sqrt(sd1^2/n1 + sd2^2/n2)).
WITH window_alerts AS (
    SELECT as_of, rule, alert_id, journey_id, alert_at, held_out
    FROM trailing_alerts($start_date, $end_date, $interventions_window_days)
    WHERE journey_id IS NOT NULL
),
alerted AS (
    -- each journey's first alert per rule, and over every rule
    SELECT as_of, rule, journey_id, min(alert_at) AS alert_at, bool_or(held_out) AS held_out
    FROM window_alerts
    GROUP BY ALL
    UNION ALL
    SELECT as_of, 'all' AS rule, journey_id, min(alert_at) AS alert_at, bool_or(held_out) AS held_out
    FROM window_alerts
    GROUP BY ALL
),
actions AS (
    SELECT a.ts, a.partition_date, coalesce(a.journey_id, c.chain_id, f.journey_id) AS journey_id
    FROM raw.actions AS a
    LEFT JOIN metrics.contact_outcomes AS c
      ON c.conversation_id = a.conversation_id
     AND c.partition_date BETWEEN CAST($start_date AS DATE) - CAST($interventions_window_days AS INTEGER)
                              AND $end_date
    LEFT JOIN signals.friction_alerts AS f
      ON f.alert_id = a.alert_id
     AND f.partition_date BETWEEN CAST($start_date AS DATE) - (CAST($interventions_window_days AS INTEGER) - 1)
                              AND $end_date
    WHERE a.partition_date BETWEEN CAST($start_date AS DATE) - (CAST($interventions_window_days AS INTEGER) - 1)
                               AND $end_date
),
contacts AS (
    -- the alerted journeys' contacts seen by the end of the day
    SELECT
        al.as_of, al.rule, al.journey_id,
        c.started_at, c.ended_at, c.disposition, c.cost,
        c.started_at > al.alert_at
        AND c.started_at <= al.alert_at + to_days(CAST($outcomes_repeat_window_days AS INTEGER)) AS is_repeat
    FROM alerted AS al
    JOIN metrics.contact_outcomes AS c
      ON c.chain_id = al.journey_id
     AND c.partition_date <= al.as_of
    WHERE c.partition_date BETWEEN CAST($start_date AS DATE) - CAST($interventions_window_days AS INTEGER)
                               AND $end_date
),
journey_outcomes AS (
    SELECT
        as_of, rule, journey_id,
        bool_or(is_repeat) AS repeated,
        CASE WHEN arg_max(disposition, started_at) = 'resolved' THEN arg_max(ended_at, started_at) END AS resolved_at,
        coalesce(sum(cost) FILTER (WHERE ended_at >= alert_at), 0.0) AS cost_to_resolve
    FROM (SELECT c.*, al.alert_at FROM contacts AS c JOIN alerted AS al USING (as_of, rule, journey_id))
    GROUP BY ALL
),
journeys AS (
    SELECT
        al.as_of, al.rule, al.journey_id, al.held_out,
        EXISTS(
            SELECT 1 FROM actions AS x
            WHERE x.journey_id = al.journey_id AND x.ts >= al.alert_at AND x.partition_date <= al.as_of
        ) AS has_action,
        coalesce(o.repeated, FALSE) AS repeated,
        CASE WHEN o.resolved_at IS NOT NULL THEN greatest(epoch(o.resolved_at - al.alert_at), 0) / 3600.0 END
            AS hours_to_resolve,
        coalesce(o.cost_to_resolve, 0.0) AS cost_to_resolve
    FROM alerted AS al
    LEFT JOIN journey_outcomes AS o USING (as_of, rule, journey_id)
),
arms AS (
    SELECT
        as_of, rule, count(*) AS alerted,
        count(*) FILTER (WHERE held_out AND has_action) AS held_out_with_action,
        count(*) FILTER (WHERE NOT held_out AND NOT has_action) AS not_acted,
        -- a: acted, h: held out
        count(*) FILTER (WHERE NOT held_out AND has_action) AS a_n,
        count(*) FILTER (WHERE NOT held_out AND has_action AND repeated) AS a_repeats,
        count(hours_to_resolve) FILTER (WHERE NOT held_out AND has_action) AS a_resolved,
        avg(hours_to_resolve ORDER BY journey_id) FILTER (WHERE NOT held_out AND has_action) AS a_hours,
        stddev_samp(hours_to_resolve ORDER BY journey_id) FILTER (WHERE NOT held_out AND has_action) AS a_hours_sd,
        avg(cost_to_resolve ORDER BY journey_id) FILTER (WHERE NOT held_out AND has_action) AS a_cost,
        stddev_samp(cost_to_resolve ORDER BY journey_id) FILTER (WHERE NOT held_out AND has_action) AS a_cost_sd,
        count(*) FILTER (WHERE held_out) AS h_n,
        count(*) FILTER (WHERE held_out AND repeated) AS h_repeats,
        count(hours_to_resolve) FILTER (WHERE held_out) AS h_resolved,
        avg(hours_to_resolve ORDER BY journey_id) FILTER (WHERE held_out) AS h_hours,
        stddev_samp(hours_to_resolve ORDER BY journey_id) FILTER (WHERE held_out) AS h_hours_sd,
        avg(cost_to_resolve ORDER BY journey_id) FILTER (WHERE held_out) AS h_cost,
        stddev_samp(cost_to_resolve ORDER BY journey_id) FILTER (WHERE held_out) AS h_cost_sd
    FROM journeys
    GROUP BY ALL
),
rates AS (
    SELECT
        *,
        CASE WHEN a_n > 0 THEN a_repeats / a_n END AS a_rate,
        wilson_low(a_repeats, a_n) AS a_low,
        wilson_high(a_repeats, a_n) AS a_high,
        CASE WHEN h_n > 0 THEN h_repeats / h_n END AS h_rate,
        wilson_low(h_repeats, h_n) AS h_low,
        wilson_high(h_repeats, h_n) AS h_high
    FROM arms
)
SELECT
    as_of AS partition_date,
    rule,
    as_of - (CAST($interventions_window_days AS INTEGER) - 1) AS window_start,
    alerted AS alerted_journeys,
    a_n AS acted_journeys,
    h_n AS held_out_journeys,
    not_acted AS not_acted_journeys,
    held_out_with_action,
    a_repeats AS acted_repeats,
    a_rate AS acted_repeat_rate,
    a_low AS acted_repeat_rate_low,
    a_high AS acted_repeat_rate_high,
    h_repeats AS held_out_repeats,
    h_rate AS held_out_repeat_rate,
    h_low AS held_out_repeat_rate_low,
    h_high AS held_out_repeat_rate_high,
    a_rate - h_rate AS repeat_rate_difference,
    a_rate - h_rate - sqrt((a_rate - a_low) ^ 2 + (h_high - h_rate) ^ 2) AS repeat_rate_difference_low,
    a_rate - h_rate + sqrt((a_high - a_rate) ^ 2 + (h_rate - h_low) ^ 2) AS repeat_rate_difference_high,
    a_resolved AS acted_resolved,
    a_hours AS acted_hours_to_resolve,
    a_hours - 1.96 * a_hours_sd / sqrt(a_resolved) AS acted_hours_to_resolve_low,
    a_hours + 1.96 * a_hours_sd / sqrt(a_resolved) AS acted_hours_to_resolve_high,
    h_resolved AS held_out_resolved,
    h_hours AS held_out_hours_to_resolve,
    h_hours - 1.96 * h_hours_sd / sqrt(h_resolved) AS held_out_hours_to_resolve_low,
    h_hours + 1.96 * h_hours_sd / sqrt(h_resolved) AS held_out_hours_to_resolve_high,
    a_hours - h_hours AS hours_to_resolve_difference,
    a_hours - h_hours - 1.96 * sqrt(a_hours_sd ^ 2 / a_resolved + h_hours_sd ^ 2 / h_resolved)
        AS hours_to_resolve_difference_low,
    a_hours - h_hours + 1.96 * sqrt(a_hours_sd ^ 2 / a_resolved + h_hours_sd ^ 2 / h_resolved)
        AS hours_to_resolve_difference_high,
    a_cost AS acted_cost_to_resolve,
    a_cost - 1.96 * a_cost_sd / sqrt(a_n) AS acted_cost_to_resolve_low,
    a_cost + 1.96 * a_cost_sd / sqrt(a_n) AS acted_cost_to_resolve_high,
    h_cost AS held_out_cost_to_resolve,
    h_cost - 1.96 * h_cost_sd / sqrt(h_n) AS held_out_cost_to_resolve_low,
    h_cost + 1.96 * h_cost_sd / sqrt(h_n) AS held_out_cost_to_resolve_high,
    a_cost - h_cost AS cost_to_resolve_difference,
    a_cost - h_cost - 1.96 * sqrt(a_cost_sd ^ 2 / a_n + h_cost_sd ^ 2 / h_n) AS cost_to_resolve_difference_low,
    a_cost - h_cost + 1.96 * sqrt(a_cost_sd ^ 2 / a_n + h_cost_sd ^ 2 / h_n) AS cost_to_resolve_difference_high
FROM rates
