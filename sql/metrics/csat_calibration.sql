-- metrics.csat_calibration: one row per day in [$start_date, $end_date] x CSAT model version x decile of predicted
-- CSAT, over the surveyed consented contacts (signals.csat_predictions with a surveyed_csat) started in the
-- $csat_calibration_window_days days ending that day. Deciles split each day's and version's surveyed contacts by
-- predicted CSAT into ten groups of near-equal size (ntile, ties broken by conversation_id), 1 = lowest predicted.
-- gap = mean predicted - mean observed: positive where the model promises more satisfaction than customers report.
-- The held_out_* columns repeat the figures for the decile's contacts the version did not train on (in_training
-- false): the out-of-sample check, empty until surveys arrive after the version's training days.
WITH days AS (
    -- the days holding predictions: a day the run was not asked to replace gets no row
    SELECT DISTINCT partition_date
    FROM signals.csat_predictions
    WHERE partition_date BETWEEN $start_date AND $end_date
),
surveyed AS (
    SELECT
        d.partition_date, p.conversation_id, p.model_version, p.predicted_csat, p.surveyed_csat,
        NOT coalesce(p.in_training, TRUE) AS held_out
    FROM days AS d
    JOIN signals.csat_predictions AS p
      ON p.partition_date BETWEEN d.partition_date - (CAST($csat_calibration_window_days AS INTEGER) - 1)
                              AND d.partition_date
    JOIN raw.conversations AS c USING (conversation_id)
    WHERE p.partition_date BETWEEN CAST($start_date AS DATE) - (CAST($csat_calibration_window_days AS INTEGER) - 1)
                               AND $end_date
      AND p.surveyed_csat IS NOT NULL
      AND consented(c.customer_key)
),
binned AS (
    SELECT
        *,
        ntile(10) OVER (
            PARTITION BY partition_date, model_version ORDER BY predicted_csat, conversation_id
        ) AS decile
    FROM surveyed
)
SELECT
    partition_date,
    partition_date - (CAST($csat_calibration_window_days AS INTEGER) - 1) AS window_start,
    model_version,
    decile,
    count(*) AS surveyed,
    min(predicted_csat) AS predicted_min,
    max(predicted_csat) AS predicted_max,
    -- float aggregates in a fixed order, so that a rerun gives bit-identical results
    avg(predicted_csat ORDER BY conversation_id) AS mean_predicted,
    avg(surveyed_csat ORDER BY conversation_id) AS mean_observed,
    avg(predicted_csat ORDER BY conversation_id) - avg(surveyed_csat ORDER BY conversation_id) AS gap,
    avg(surveyed_csat ORDER BY conversation_id)
    - 1.959963984540054 * coalesce(stddev_samp(surveyed_csat ORDER BY conversation_id), 0) / sqrt(count(*))
        AS observed_low,
    avg(surveyed_csat ORDER BY conversation_id)
    + 1.959963984540054 * coalesce(stddev_samp(surveyed_csat ORDER BY conversation_id), 0) / sqrt(count(*))
        AS observed_high,
    count(*) FILTER (WHERE held_out) AS held_out_surveyed,
    avg(predicted_csat ORDER BY conversation_id) FILTER (WHERE held_out) AS held_out_mean_predicted,
    avg(surveyed_csat ORDER BY conversation_id) FILTER (WHERE held_out) AS held_out_mean_observed,
    avg(predicted_csat ORDER BY conversation_id) FILTER (WHERE held_out)
    - avg(surveyed_csat ORDER BY conversation_id) FILTER (WHERE held_out) AS held_out_gap
FROM binned
GROUP BY partition_date, model_version, decile
