-- Report trends: contacts per day and channel.
SELECT partition_date, channel, sum(contacts) AS contacts
FROM metrics.daily_outcomes
GROUP BY ALL
HAVING sum(contacts) > 0
ORDER BY ALL
