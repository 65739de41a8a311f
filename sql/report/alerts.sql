-- Report alerts: the alerts raised in the period $start_date..$end_date (signals.friction_alerts), latest first, the
-- first $report_top_rows of each rule, with the rule's count, its high-severity count, the customers it concerns and
-- how many are held out (left without action, to measure whether acting helps).
WITH period AS (
    SELECT * FROM signals.friction_alerts WHERE partition_date BETWEEN $start_date AND $end_date
),
ranked AS (
    SELECT
        *,
        count(*) OVER (PARTITION BY rule) AS rule_alerts,
        count(*) FILTER (WHERE severity = 'high') OVER (PARTITION BY rule) AS rule_high,
        count(DISTINCT customer_key) OVER (PARTITION BY rule) AS rule_customers,
        count(*) FILTER (WHERE held_out) OVER (PARTITION BY rule) AS rule_held_out,
        row_number() OVER (PARTITION BY rule ORDER BY alert_at DESC, alert_id) AS position
    FROM period
)
SELECT
    rule,
    rule_alerts,
    rule_high,
    rule_customers,
    rule_held_out,
    held_out,
    alert_id,
    severity,
    subject_type,
    subject_id,
    customer_key,
    journey_id,
    alert_at,
    value,
    threshold,
    reason
FROM ranked
WHERE position <= $report_top_rows
ORDER BY rule_high DESC, rule_alerts DESC, rule, position
