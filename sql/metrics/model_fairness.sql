-- metrics.model_fairness: one row per day in [$start_date, $end_date] x model x model version x segment, over the
-- labelled consented contacts started in the $fairness_window_days days ending that day: each model's error and
-- calibration overall (segment_type 'all') and per channel and per queue, with disparity ratios. The data has no
-- language field, so there is no language segment.
--   csat:          surveyed contacts; error = mean absolute error (CSAT points) of signals.csat_predictions;
--                  mean_predicted / mean_observed = mean predicted and surveyed CSAT.
--   repeat_risk:   contacts scored in metrics.repeat_risk whose repeat window has closed by the end of the day (the
--                  label is final), with the risk first scored (the day the contact ended: what proactive service
--                  saw); error = Brier score; mean_predicted / mean_observed = mean risk and repeat rate.
--   intent_triage: contacts with a source intent label and a signals.intent_predictions row; error = share of the
--                  answered ones (not abstained) whose predicted intent differs from the label; abstention_rate =
--                  share not answered. Its confidence is a score, not a probability: no mean_predicted.
-- A segment with fewer than $fairness_min_sample labelled contacts is listed but not judged: no disparity flag, and
-- it takes no part in worst_to_best_ratio.
WITH days AS (
    -- the days holding contacts: a day the run was not asked to replace gets no row
    SELECT DISTINCT partition_date
    FROM metrics.contact_outcomes
    WHERE partition_date BETWEEN $start_date AND $end_date
),
window_contacts AS (
    SELECT
        d.partition_date, o.conversation_id, o.channel, coalesce(o.queue, '(none)') AS queue,
        o.ended_at, o.repeat_contact, o.intent, o.intent_source
    FROM days AS d
    JOIN metrics.contact_outcomes AS o
      ON o.partition_date BETWEEN d.partition_date - (CAST($fairness_window_days AS INTEGER) - 1) AND d.partition_date
    WHERE o.partition_date BETWEEN CAST($start_date AS DATE) - (CAST($fairness_window_days AS INTEGER) - 1)
                               AND $end_date
      AND consented(o.customer_key)
),
first_risk AS (
    SELECT
        last_conversation_id AS conversation_id,
        arg_min(risk, partition_date) AS risk,
        arg_min(model_version, partition_date) AS model_version
    FROM metrics.repeat_risk
    WHERE partition_date BETWEEN CAST($start_date AS DATE) - (CAST($fairness_window_days AS INTEGER) - 1)
                             AND $end_date
    GROUP BY last_conversation_id
),
examples AS (
    SELECT
        w.*, 'csat' AS model, 'mae' AS error_measure, p.model_version, TRUE AS answered,
        p.predicted_csat AS predicted, CAST(p.surveyed_csat AS DOUBLE) AS observed,
        abs(p.predicted_csat - p.surveyed_csat) AS loss
    FROM window_contacts AS w
    JOIN signals.csat_predictions AS p USING (conversation_id)
    WHERE p.partition_date BETWEEN CAST($start_date AS DATE) - (CAST($fairness_window_days AS INTEGER) - 1)
                               AND $end_date
      AND p.surveyed_csat IS NOT NULL
    UNION ALL
    SELECT
        w.*, 'repeat_risk', 'brier', r.model_version, TRUE,
        r.risk, CAST(w.repeat_contact AS DOUBLE), (r.risk - CAST(w.repeat_contact AS DOUBLE)) ** 2
    FROM window_contacts AS w
    JOIN first_risk AS r USING (conversation_id)
    WHERE w.ended_at + to_days(CAST($outcomes_repeat_window_days AS INTEGER)) <= w.partition_date + 1
    UNION ALL
    SELECT
        w.*, 'intent_triage', 'error_rate', i.model_version, i.predicted_intent IS NOT NULL,
        NULL, NULL, CAST(i.predicted_intent <> w.intent AS DOUBLE)
    FROM window_contacts AS w
    JOIN signals.intent_predictions AS i USING (conversation_id)
    WHERE i.partition_date BETWEEN CAST($start_date AS DATE) - (CAST($fairness_window_days AS INTEGER) - 1)
                               AND $end_date
      AND w.intent_source = 'label'
      AND i.model_version IS NOT NULL
),
segmented AS (
    SELECT
        e.*,
        s.segment_type,
        CASE s.segment_type WHEN 'all' THEN 'all' WHEN 'channel' THEN e.channel ELSE e.queue END AS segment
    FROM examples AS e
    CROSS JOIN (VALUES ('all'), ('channel'), ('queue')) AS s (segment_type)
),
stats AS (
    SELECT
        partition_date, model, model_version, segment_type, segment,
        any_value(error_measure) AS error_measure,
        count(*) AS labelled,
        count(*) FILTER (WHERE answered) AS answered,
        -- float aggregates in a fixed order, so that a rerun gives bit-identical results
        avg(loss ORDER BY conversation_id) AS error,
        avg(predicted ORDER BY conversation_id) AS mean_predicted,
        avg(observed ORDER BY conversation_id) AS mean_observed,
        count(*) >= $fairness_min_sample AS judged
    FROM segmented
    GROUP BY partition_date, model, model_version, segment_type, segment
),
overall AS (
    SELECT
        partition_date, model, model_version,
        error AS overall_error,
        mean_predicted - mean_observed AS overall_gap
    FROM stats
    WHERE segment_type = 'all'
),
spread AS (
    SELECT
        partition_date, model, model_version, segment_type,
        count(*) FILTER (WHERE judged) AS judged_segments,
        max(error) FILTER (WHERE judged) / nullif(min(error) FILTER (WHERE judged), 0) AS worst_to_best_ratio
    FROM stats
    GROUP BY partition_date, model, model_version, segment_type
)
SELECT
    s.partition_date,
    s.partition_date - (CAST($fairness_window_days AS INTEGER) - 1) AS window_start,
    s.model,
    s.model_version,
    s.segment_type,
    s.segment,
    s.labelled,
    s.answered,
    CASE WHEN s.model = 'intent_triage' THEN 1 - s.answered / s.labelled END AS abstention_rate,
    s.error_measure,
    s.error,
    s.mean_predicted,
    s.mean_observed,
    s.mean_predicted - s.mean_observed AS calibration_gap,
    o.overall_error,
    s.error / nullif(o.overall_error, 0) AS error_ratio,
    s.mean_predicted - s.mean_observed - o.overall_gap AS calibration_gap_vs_overall,
    CASE WHEN p.judged_segments >= 2 THEN p.worst_to_best_ratio END AS worst_to_best_ratio,
    s.judged,
    coalesce(s.judged AND s.error / nullif(o.overall_error, 0) >= $fairness_max_error_ratio, FALSE) AS disparity_flag
FROM stats AS s
JOIN overall AS o USING (partition_date, model, model_version)
JOIN spread AS p USING (partition_date, model, model_version, segment_type)
