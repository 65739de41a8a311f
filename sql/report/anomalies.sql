-- Report anomalies: the days of the period $start_date..$end_date whose figure left its recent range
-- (metrics.outcome_anomalies), latest and largest first, the first $report_top_rows, with the count of all and of the
-- channel-days judged at all; one row with null figures when none left it.
WITH in_period AS (
    SELECT * FROM metrics.outcome_anomalies WHERE partition_date BETWEEN $start_date AND $end_date
),
counts AS (
    SELECT
        count(*) AS channel_days,
        count(*) FILTER (WHERE judged) AS judged,
        count(*) FILTER (WHERE is_anomaly) AS anomalies
    FROM in_period
),
found AS (
    SELECT
        partition_date,
        channel,
        metric,
        nullif(defect, 'none') AS defect,
        value,
        baseline,
        lower_bound,
        upper_bound,
        move,
        direction,
        robust_z,
        sample_size
    FROM in_period
    WHERE is_anomaly
    ORDER BY partition_date DESC, abs(robust_z) DESC, channel, metric
    LIMIT $report_top_rows
)
SELECT c.*, f.*
FROM counts AS c
LEFT JOIN found AS f ON TRUE
ORDER BY f.partition_date DESC, abs(f.robust_z) DESC, f.channel, f.metric
