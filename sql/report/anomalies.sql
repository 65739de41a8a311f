-- Report anomalies: the days of the period $start_date..$end_date whose containment, containment with quality or
-- cost-to-resolve left its recent range (metrics.outcome_anomalies), latest and largest first, the first
-- $report_top_rows with the count of all.
WITH in_period AS (
    SELECT * FROM metrics.outcome_anomalies WHERE partition_date BETWEEN $start_date AND $end_date
)
SELECT
    partition_date,
    channel,
    metric,
    value,
    baseline,
    lower_bound,
    upper_bound,
    move,
    move_pct,
    direction,
    robust_z,
    sample_size,
    count(*) OVER () AS anomalies
FROM in_period
WHERE is_anomaly
ORDER BY partition_date DESC, abs(robust_z) DESC, channel, metric
LIMIT $report_top_rows
