-- metrics.alert_rule_precision: one row per day in [$start_date, $end_date] holding alerts x alert rule (and
-- 'all'): the share of the rule's alerts raised in the $interventions_window_days days ending on the day whose
-- customer turned out to need help, as seen by the end of the day. An alert needed help when, within
-- $outcomes_repeat_window_days days after alert_at:
--   journey and conversation alerts: the journey (metrics.contact_outcomes.chain_id) had another contact starting
--     after alert_at (a repeat), or a contact of it ending at or after alert_at had a CSAT at or below
--     $outcomes_cwq_max_bad_csat;
--   session alerts: the session's customer contacted (any intent) after alert_at (failure demand).
-- It did not when neither happened and the whole period has passed by the end of the day. Alerts whose period is
-- still running without a sign yet, and alerts on anonymous sessions, are not judged. A journey still unresolved at
-- the end of the period is counted (unresolved) but is not a sign on its own: every journey and conversation rule
-- fires only on a contact that is not resolved, so that sign would make their precision 1 by construction.
-- precision = needed_help / judged with its 95% Wilson interval, over every alert and over the held-out alerts
-- only (no action can have changed their outcome, so that is the rule's precision as such).
WITH window_alerts AS (
    SELECT
        as_of, alert_id, rule, subject_type, customer_key, journey_id, alert_at, held_out,
        alert_at + to_days(CAST($outcomes_repeat_window_days AS INTEGER)) AS judged_by,
        CAST(as_of + INTERVAL 1 DAY AS TIMESTAMP) AS seen_until
    FROM trailing_alerts($start_date, $end_date, $interventions_window_days)
),
contacts AS (
    SELECT conversation_id, customer_key, chain_id, started_at, ended_at, disposition, csat
    FROM metrics.contact_outcomes
    WHERE partition_date BETWEEN CAST($start_date AS DATE) - CAST($interventions_window_days AS INTEGER)
                             AND $end_date
),
journey_signs AS (
    SELECT
        w.as_of, w.alert_id,
        bool_or(c.started_at > w.alert_at AND c.started_at <= w.judged_by AND c.started_at < w.seen_until)
            AS repeated,
        bool_or(c.csat <= $outcomes_cwq_max_bad_csat AND c.ended_at >= w.alert_at AND c.ended_at <= w.judged_by
                AND c.ended_at < w.seen_until) AS bad_csat,
        bool_or(c.disposition = 'resolved' AND c.ended_at >= w.alert_at AND c.ended_at <= w.judged_by
                AND c.ended_at < w.seen_until) AS resolved
    FROM window_alerts AS w
    JOIN contacts AS c ON c.chain_id = w.journey_id
    WHERE w.journey_id IS NOT NULL
    GROUP BY ALL
),
session_signs AS (
    SELECT w.as_of, w.alert_id, count(*) > 0 AS contacted
    FROM window_alerts AS w
    JOIN contacts AS c
      ON c.customer_key = w.customer_key
     AND c.started_at > w.alert_at
     AND c.started_at <= w.judged_by
     AND c.started_at < w.seen_until
    WHERE w.journey_id IS NULL
    GROUP BY ALL
),
judged AS (
    SELECT
        w.as_of, w.rule, w.held_out,
        CASE
            WHEN w.journey_id IS NOT NULL THEN coalesce(j.repeated, FALSE) OR coalesce(j.bad_csat, FALSE)
            ELSE coalesce(s.contacted, FALSE)
        END AS needed_help,
        w.journey_id IS NOT NULL AND w.judged_by < w.seen_until AND NOT coalesce(j.resolved, FALSE) AS unresolved,
        w.journey_id IS NOT NULL OR w.customer_key IS NOT NULL AS judgeable,
        w.judged_by < w.seen_until AS period_over
    FROM window_alerts AS w
    LEFT JOIN journey_signs AS j USING (as_of, alert_id)
    LEFT JOIN session_signs AS s USING (as_of, alert_id)
),
verdicts AS (
    SELECT as_of, rule, held_out, judgeable AND (needed_help OR period_over) AS is_judged, needed_help, unresolved
    FROM judged
),
counted AS (
    SELECT
        as_of,
        coalesce(rule, 'all') AS rule,
        count(*) AS alerts,
        count(*) FILTER (WHERE is_judged) AS judged_alerts,
        count(*) FILTER (WHERE is_judged AND needed_help) AS needed_help,
        count(*) FILTER (WHERE unresolved) AS unresolved,
        count(*) FILTER (WHERE held_out AND is_judged) AS held_out_judged,
        count(*) FILTER (WHERE held_out AND is_judged AND needed_help) AS held_out_needed_help
    FROM verdicts
    GROUP BY GROUPING SETS ((as_of, rule), (as_of))
)
SELECT
    as_of AS partition_date,
    rule,
    as_of - (CAST($interventions_window_days AS INTEGER) - 1) AS window_start,
    alerts,
    judged_alerts,
    needed_help,
    unresolved,
    CASE WHEN judged_alerts > 0 THEN needed_help / judged_alerts END AS precision,
    wilson_low(needed_help, judged_alerts) AS precision_low,
    wilson_high(needed_help, judged_alerts) AS precision_high,
    held_out_judged,
    held_out_needed_help,
    CASE WHEN held_out_judged > 0 THEN held_out_needed_help / held_out_judged END AS held_out_precision,
    wilson_low(held_out_needed_help, held_out_judged) AS held_out_precision_low,
    wilson_high(held_out_needed_help, held_out_judged) AS held_out_precision_high
FROM counted
