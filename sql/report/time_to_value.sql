-- Report time to value: metrics.time_to_value on the latest day of the period ($start_date..$end_date) - every
-- start-week cohort for all journeys and channels (dimension 'cohort'), and per journey and per channel the cohorts'
-- counts summed (medians cannot be), with the customers observed long enough and those who reached value in time.
WITH in_period AS (
    SELECT * FROM metrics.time_to_value WHERE partition_date BETWEEN $start_date AND $end_date
),
latest AS (
    SELECT * FROM in_period WHERE partition_date = (SELECT max(d.partition_date) FROM in_period AS d)
)
SELECT
    'cohort' AS dimension,
    strftime(cohort_week, '%Y-%m-%d') AS segment,
    partition_date,
    customers,
    reached_value,
    open_customers,
    median_days_to_value,
    p90_days_to_value,
    observed_n_days,
    reached_within_n_days
FROM latest
WHERE journey = 'all' AND channel = 'all'
UNION ALL
SELECT
    if(journey = 'all', 'channel', 'journey') AS dimension,
    if(journey = 'all', channel, journey) AS segment,
    max(partition_date) AS partition_date,
    sum(customers) AS customers,
    sum(reached_value) AS reached_value,
    sum(open_customers) AS open_customers,
    NULL AS median_days_to_value,
    NULL AS p90_days_to_value,
    sum(observed_n_days) AS observed_n_days,
    sum(reached_within_n_days) AS reached_within_n_days
FROM latest
WHERE (journey = 'all') != (channel = 'all')
GROUP BY ALL
ORDER BY dimension, segment DESC
