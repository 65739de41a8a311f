-- metrics.failure_demand: one row per day in [$start_date, $end_date] x channel ('all' and each) x intent ('all' and
-- each) with contacts that day: the share of contacts that are failure demand (metrics.contact_outcomes.demand_class)
-- with its 95% Wilson interval and the contacts of each cause (failure_demand_cause), on the day and over the
-- $failure_demand_window_days days ending on it. Counts are summed before dividing.
WITH contacts AS (
    SELECT partition_date, channel, intent, demand_class, failure_demand_cause
    FROM metrics.contact_outcomes
    WHERE partition_date BETWEEN CAST($start_date AS DATE) - (CAST($failure_demand_window_days AS INTEGER) - 1)
                             AND $end_date
      AND consented(customer_key)
),
daily AS (
    SELECT
        partition_date,
        CASE WHEN grouping(channel) = 1 THEN 'all' ELSE channel END AS channel,
        CASE WHEN grouping(intent) = 1 THEN 'all' ELSE intent END AS intent,
        count(*) AS contacts,
        count(*) FILTER (WHERE demand_class = 'failure') AS failure_demand,
        count(*) FILTER (WHERE failure_demand_cause = 'chasing_open_journey') AS chasing_open_journey,
        count(*) FILTER (WHERE failure_demand_cause = 'pre_contact_error') AS pre_contact_error,
        count(*) FILTER (WHERE failure_demand_cause = 'pre_contact_friction') AS pre_contact_friction,
        count(*) FILTER (WHERE failure_demand_cause = 'failure_intent') AS failure_intent
    FROM contacts
    GROUP BY GROUPING SETS (
        (partition_date, channel, intent), (partition_date, channel), (partition_date, intent), (partition_date)
    )
),
windowed AS (
    SELECT
        d.partition_date,
        d.channel,
        d.intent,
        sum(w.contacts) AS window_contacts,
        sum(w.failure_demand) AS window_failure_demand
    FROM daily AS d
    JOIN daily AS w
      ON w.channel = d.channel AND w.intent = d.intent
     AND w.partition_date BETWEEN d.partition_date - (CAST($failure_demand_window_days AS INTEGER) - 1)
                              AND d.partition_date
    WHERE d.partition_date BETWEEN $start_date AND $end_date
    GROUP BY d.partition_date, d.channel, d.intent
)
SELECT
    d.partition_date,
    d.channel,
    d.intent,
    d.contacts,
    d.failure_demand,
    d.failure_demand / d.contacts AS failure_share,
    wilson_low(d.failure_demand, d.contacts) AS failure_share_low,
    wilson_high(d.failure_demand, d.contacts) AS failure_share_high,
    d.chasing_open_journey,
    d.pre_contact_error,
    d.pre_contact_friction,
    d.failure_intent,
    CAST(d.partition_date - (CAST($failure_demand_window_days AS INTEGER) - 1) AS DATE) AS window_start,
    w.window_contacts,
    w.window_failure_demand,
    w.window_failure_demand / w.window_contacts AS window_failure_share,
    wilson_low(w.window_failure_demand, w.window_contacts) AS window_failure_share_low,
    wilson_high(w.window_failure_demand, w.window_contacts) AS window_failure_share_high
FROM daily AS d
JOIN windowed AS w USING (partition_date, channel, intent)
