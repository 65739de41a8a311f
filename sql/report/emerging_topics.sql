-- Report emerging topics: the candidate new contact drivers found on the latest day of the period
-- ($start_date..$end_date) in signals.emerging_topics, new topics and the largest first, each with the customer words
-- nearest its centre (signals.emerging_topic_contacts, representative 1).
WITH in_period AS (
    SELECT * FROM signals.emerging_topics WHERE partition_date BETWEEN $start_date AND $end_date
)
SELECT
    t.partition_date,
    t.topic_id,
    t.label,
    size,
    size_previous_week,
    growth,
    first_seen,
    is_new,
    candidates,
    c.utterance,
    count(*) OVER () AS topics
FROM in_period AS t
LEFT JOIN signals.emerging_topic_contacts AS c
    ON c.partition_date = t.partition_date AND c.topic_id = t.topic_id AND c.representative_rank = 1
WHERE t.partition_date = (SELECT max(d.partition_date) FROM in_period AS d)
ORDER BY is_new DESC, size DESC, t.topic_id
LIMIT $report_top_rows
