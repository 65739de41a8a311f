-- Report QA scorecards: each pseudonymous agent's and the team's (agent_key NULL) period ($start_date..$end_date) per
-- scorecard from metrics.qa_scores; the mean score is weighted by the scored conversations behind each day's mean.
SELECT
    scorecard,
    agent_key,
    sum(conversations) AS conversations,
    sum(scored_conversations) AS scored_conversations,
    sum(score_mean * scored_conversations) / nullif(sum(scored_conversations) FILTER (WHERE score_mean IS NOT NULL), 0)
        AS score_mean,
    min(score_min) AS score_min,
    sum(questions_applicable) AS questions_applicable,
    sum(questions_met) AS questions_met,
    string_agg(DISTINCT rules_version, ', ' ORDER BY rules_version) AS rules_versions
FROM metrics.qa_scores
WHERE partition_date BETWEEN $start_date AND $end_date
GROUP BY GROUPING SETS ((scorecard, agent_key), (scorecard))
ORDER BY scorecard, agent_key IS NOT NULL, scored_conversations DESC, agent_key
