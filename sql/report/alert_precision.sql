-- Report alerts: how often each rule's alerts pointed at a customer who needed help (metrics.alert_rule_precision),
-- on the latest day of the period ($start_date..$end_date).
WITH in_period AS (
    SELECT * FROM metrics.alert_rule_precision WHERE partition_date BETWEEN $start_date AND $end_date
)
SELECT
    rule,
    window_start,
    partition_date,
    judged_alerts,
    needed_help,
    precision,
    precision_low,
    precision_high,
    held_out_judged,
    held_out_precision
FROM in_period
WHERE partition_date = (SELECT max(d.partition_date) FROM in_period AS d)
ORDER BY rule
