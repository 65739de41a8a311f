-- Report emerging topics: the candidate new contact drivers found on the latest day of the period
-- ($start_date..$end_date) in signals.emerging_topics, new topics and the largest first.
WITH in_period AS (
    SELECT * FROM signals.emerging_topics WHERE partition_date BETWEEN $start_date AND $end_date
)
SELECT
    partition_date,
    topic_id,
    label,
    size,
    size_previous_week,
    growth,
    first_seen,
    is_new,
    candidates,
    count(*) OVER () AS topics
FROM in_period
WHERE partition_date = (SELECT max(d.partition_date) FROM in_period AS d)
ORDER BY is_new DESC, size DESC, topic_id
LIMIT $report_top_rows
