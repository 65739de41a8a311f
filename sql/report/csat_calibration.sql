-- Report CSAT calibration: the deciles of predicted CSAT on the latest day up to $end_date (from $start_date) of
-- metrics.csat_calibration, for the model version with the most surveyed contacts that day.
WITH latest AS (
    SELECT partition_date, model_version, sum(surveyed) AS surveyed
    FROM metrics.csat_calibration
    WHERE partition_date BETWEEN $start_date AND $end_date
    GROUP BY ALL
    ORDER BY partition_date DESC, surveyed DESC, model_version
    LIMIT 1
)
SELECT
    c.partition_date,
    c.window_start,
    c.model_version,
    c.decile,
    c.surveyed,
    c.predicted_min,
    c.predicted_max,
    c.mean_predicted,
    c.mean_observed,
    c.observed_low,
    c.observed_high,
    c.gap
FROM metrics.csat_calibration AS c
JOIN latest AS l USING (partition_date, model_version)
ORDER BY c.decile
