-- Report failure demand: the period's ($start_date..$end_date) contacts and failure demand with the contacts of each
-- cause (metrics.failure_demand), for every channel and intent together (dimension 'all'), per channel and per intent.
SELECT
    CASE WHEN channel = 'all' AND intent = 'all' THEN 'all' WHEN intent = 'all' THEN 'channel' ELSE 'intent' END
        AS dimension,
    CASE WHEN intent = 'all' THEN channel ELSE intent END AS segment,
    sum(contacts) AS contacts,
    sum(failure_demand) AS failure_demand,
    sum(chasing_open_journey) AS chasing_open_journey,
    sum(pre_contact_error) AS pre_contact_error,
    sum(pre_contact_friction) AS pre_contact_friction,
    sum(failure_intent) AS failure_intent
FROM metrics.failure_demand
WHERE partition_date BETWEEN $start_date AND $end_date AND (channel = 'all' OR intent = 'all')
GROUP BY ALL
ORDER BY dimension, failure_demand DESC, segment
