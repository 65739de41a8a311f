-- Report agents: each pseudonymous agent's period ($start_date..$end_date) from metrics.agent_daily, and the team
-- (agent_key NULL). Rates and means are weighted by the conversations (or surveyed conversations) behind them; handle
-- time is the mean, since daily medians cannot be combined.
SELECT
    agent_key,
    count(DISTINCT agent_key) AS agents,
    sum(conversations) AS conversations,
    sum(handle_time_total_seconds) / nullif(sum(conversations), 0) AS handle_time_mean_seconds,
    sum(sentiment_lift_mean * sentiment_lift_conversations)
    / nullif(sum(sentiment_lift_conversations) FILTER (WHERE sentiment_lift_mean IS NOT NULL), 0) AS sentiment_lift,
    sum(sentiment_lift_conversations) AS sentiment_lift_conversations,
    sum(escalation_requests) AS escalation_requests,
    sum(transfers) AS transfers,
    sum(repeat_rate * conversations) / nullif(sum(conversations), 0) AS repeat_rate,
    sum(fcr_rate * conversations) / nullif(sum(conversations), 0) AS fcr_rate,
    sum(csat_mean * surveyed) / nullif(sum(surveyed) FILTER (WHERE csat_mean IS NOT NULL), 0) AS csat_mean,
    sum(surveyed) AS surveyed
FROM metrics.agent_daily
WHERE partition_date BETWEEN $start_date AND $end_date
GROUP BY GROUPING SETS ((agent_key), ())
ORDER BY agent_key IS NOT NULL, conversations DESC, agent_key
