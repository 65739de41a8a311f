-- Report governed AI: each model's error by segment on the latest day of the period ($start_date..$end_date) in
-- metrics.model_fairness, for the model's version with the most labelled contacts that day; flagged segments first.
WITH in_period AS (
    SELECT * FROM metrics.model_fairness WHERE partition_date BETWEEN $start_date AND $end_date
),
latest AS (
    SELECT model, arg_max(model_version, labelled) AS model_version, max(partition_date) AS partition_date
    FROM in_period
    WHERE segment_type = 'all' AND partition_date = (SELECT max(d.partition_date) FROM in_period AS d)
    GROUP BY model
)
SELECT
    f.partition_date,
    f.window_start,
    f.model,
    f.model_version,
    f.segment_type,
    f.segment,
    f.labelled,
    f.error_measure,
    f.error,
    f.overall_error,
    f.error_ratio,
    f.calibration_gap,
    f.judged,
    f.disparity_flag
FROM in_period AS f
JOIN latest AS l USING (model, model_version, partition_date)
ORDER BY f.model, f.segment_type = 'all' DESC, f.disparity_flag DESC, f.error_ratio DESC NULLS LAST, f.segment
