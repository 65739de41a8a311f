-- metrics.outcome_anomalies: one row per day in [$start_date, $end_date] x channel ('all' and each channel) x
-- metric (containment_rate, cwq_rate, cost_to_resolve_median) that has a value that day.
-- Rates come from metrics.daily_outcomes, summed over intents (and channels for 'all') before dividing, so they
-- are rates of summed counts, never averages of rates. cost_to_resolve_median is the median cost-to-resolve of the
-- chains resolved that day (metrics.contact_outcomes, resolving contacts, as daily_outcomes counts them): medians
-- of intents cannot be combined, so it is read from the contacts.
-- Baseline = median of the metric's daily values over the previous $anomalies_baseline_days days (the day itself
-- excluded; days without a value are skipped). Spread = 1.4826 x MAD (median absolute deviation from the
-- baseline), floored for rates at the binomial standard error sqrt(b(1-b)/n) of the day's n and at
-- $anomalies_min_rate_spread, for cost at $anomalies_min_relative_spread x baseline.
-- robust_z = (value - baseline) / spread; bounds = baseline -/+ $anomalies_z_threshold x spread (clamped to >= 0,
-- rates to <= 1). A day is judged with at least $anomalies_min_days baseline days and $anomalies_min_contacts
-- contacts (resolved chains for cost) on the day; is_anomaly = judged and outside the bounds.
-- Defects (metrics.defects) but app versions are judged too, as metric defect_contacts of channel 'all', one row
-- per defect ('<defect_type>:<defect>') that preceded a contact that day: the contacts it preceded, against the
-- days with data of its baseline (a day without the defect counts 0); the spread is floored at the Poisson
-- standard deviation sqrt(max(baseline, 1)) and $anomalies_min_relative_spread x baseline, and a day is judged
-- with $anomalies_min_days baseline days and at least $defects_min_contacts contacts preceded. Outcome metrics
-- have defect 'none'.
WITH rate_days AS (
    SELECT
        partition_date,
        CASE WHEN grouping(channel) = 1 THEN 'all' ELSE channel END AS channel,
        sum(contacts) AS contacts,
        sum(contained) AS contained,
        sum(contained_with_quality) AS contained_with_quality
    FROM metrics.daily_outcomes
    WHERE partition_date BETWEEN CAST($start_date AS DATE) - CAST($anomalies_baseline_days AS INTEGER) AND $end_date
    GROUP BY GROUPING SETS ((partition_date, channel), (partition_date))
),
cost_days AS (
    SELECT
        partition_date,
        CASE WHEN grouping(channel) = 1 THEN 'all' ELSE channel END AS channel,
        count(*) AS chains_resolved,
        median(cost_to_resolve) AS cost_to_resolve_median
    FROM metrics.contact_outcomes
    WHERE partition_date BETWEEN CAST($start_date AS DATE) - CAST($anomalies_baseline_days AS INTEGER) AND $end_date
      AND resolves_chain AND chain_status = 'resolved'
      AND consented(customer_key)
    GROUP BY GROUPING SETS ((partition_date, channel), (partition_date))
),
defect_days AS (
    SELECT partition_date, defect_type || ':' || defect AS defect, contacts_preceded
    FROM metrics.defects
    WHERE partition_date BETWEEN CAST($start_date AS DATE) - CAST($anomalies_baseline_days AS INTEGER) AND $end_date
),
judged_defects AS (
    -- app versions are left out: their contacts follow their adoption (a new release takes over its predecessor's
    -- sessions), which a count baseline would flag at every release; compare their contacts per 1,000 sessions
    SELECT DISTINCT defect FROM defect_days
    WHERE partition_date BETWEEN $start_date AND $end_date AND contacts_preceded > 0
      AND NOT starts_with(defect, 'app_version:')
),
series AS (
    SELECT partition_date, channel, 'containment_rate' AS metric, 'none' AS defect, contained / contacts AS value,
           contacts AS sample_size, contacts
    FROM rate_days
    WHERE contacts > 0
    UNION ALL
    SELECT partition_date, channel, 'cwq_rate' AS metric, 'none' AS defect,
           contained_with_quality / contacts AS value, contacts AS sample_size, contacts
    FROM rate_days
    WHERE contacts > 0
    UNION ALL
    SELECT c.partition_date, c.channel, 'cost_to_resolve_median' AS metric, 'none' AS defect,
           c.cost_to_resolve_median AS value, c.chains_resolved AS sample_size, coalesce(r.contacts, 0) AS contacts
    FROM cost_days AS c
    LEFT JOIN rate_days AS r USING (partition_date, channel)
    WHERE c.cost_to_resolve_median IS NOT NULL
    UNION ALL
    -- every day with contacts, 0 where the defect preceded none
    SELECT r.partition_date, 'all' AS channel, 'defect_contacts' AS metric, l.defect,
           coalesce(d.contacts_preceded, 0) AS value, coalesce(d.contacts_preceded, 0) AS sample_size, r.contacts
    FROM rate_days AS r
    CROSS JOIN judged_defects AS l
    LEFT JOIN defect_days AS d ON d.partition_date = r.partition_date AND d.defect = l.defect
    WHERE r.channel = 'all' AND r.contacts > 0
),
targets AS (
    SELECT * FROM series
    WHERE partition_date BETWEEN $start_date AND $end_date AND (metric <> 'defect_contacts' OR value > 0)
),
baselines AS (
    SELECT t.partition_date, t.channel, t.metric, t.defect, median(b.value) AS baseline, count(*) AS baseline_days
    FROM targets AS t
    JOIN series AS b
      ON b.channel = t.channel AND b.metric = t.metric AND b.defect = t.defect
     AND b.partition_date BETWEEN t.partition_date - CAST($anomalies_baseline_days AS INTEGER) AND t.partition_date - 1
    GROUP BY ALL
),
deviations AS (
    SELECT s.partition_date, s.channel, s.metric, s.defect, median(abs(b.value - s.baseline)) AS mad
    FROM baselines AS s
    JOIN series AS b
      ON b.channel = s.channel AND b.metric = s.metric AND b.defect = s.defect
     AND b.partition_date BETWEEN s.partition_date - CAST($anomalies_baseline_days AS INTEGER) AND s.partition_date - 1
    GROUP BY ALL
),
spreads AS (
    SELECT
        t.*,
        s.baseline,
        coalesce(s.baseline_days, 0) AS baseline_days,
        d.mad,
        CASE
            WHEN s.baseline IS NULL THEN NULL
            WHEN t.metric = 'cost_to_resolve_median'
                THEN greatest(1.4826 * d.mad, $anomalies_min_relative_spread * abs(s.baseline))
            WHEN t.metric = 'defect_contacts'
                THEN greatest(
                    1.4826 * d.mad, sqrt(greatest(s.baseline, 1)), $anomalies_min_relative_spread * s.baseline
                )
            ELSE greatest(
                1.4826 * d.mad, sqrt(s.baseline * (1 - s.baseline) / t.sample_size), $anomalies_min_rate_spread
            )
        END AS spread
    FROM targets AS t
    LEFT JOIN baselines AS s USING (partition_date, channel, metric, defect)
    LEFT JOIN deviations AS d USING (partition_date, channel, metric, defect)
),
judged AS (
    SELECT
        *,
        baseline - $anomalies_z_threshold * spread AS raw_lower,
        baseline + $anomalies_z_threshold * spread AS raw_upper,
        baseline_days >= $anomalies_min_days
        AND sample_size
        >= CASE WHEN metric = 'defect_contacts' THEN $defects_min_contacts ELSE $anomalies_min_contacts END AS judged
    FROM spreads
)
SELECT
    partition_date,
    channel,
    metric,
    defect,
    value,
    sample_size,
    contacts,
    baseline,
    baseline_days,
    spread AS baseline_spread,
    (value - baseline) / nullif(spread, 0) AS robust_z,
    greatest(raw_lower, 0) AS lower_bound,
    CASE WHEN metric IN ('containment_rate', 'cwq_rate') THEN least(raw_upper, 1) ELSE raw_upper END AS upper_bound,
    value - baseline AS move,
    100 * (value - baseline) / nullif(baseline, 0) AS move_pct,
    CASE WHEN value > baseline THEN 'up' WHEN value < baseline THEN 'down' WHEN value = baseline THEN 'flat' END
        AS direction,
    judged,
    coalesce(judged AND (value < raw_lower OR value > raw_upper), FALSE) AS is_anomaly
FROM judged
