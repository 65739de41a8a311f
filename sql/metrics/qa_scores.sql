-- metrics.qa_scores: one row per day in [$start_date, $end_date] x pseudonymous agent (raw.turns.agent_key of agent
-- turns; never agent_id) x scorecard, over the conversations of signals.qa_conversation_scores (consented only).
-- A conversation counts for EVERY agent who spoke in it, as in metrics.agent_daily. A conversation without a score
-- (no weighted question applied) counts in conversations, not in the score figures. An agent-day is judged only
-- with at least $qa_min_conversations scored conversations: below it the figures are kept (they add up over days)
-- but are too few to rate the agent on, and `caution` says so in words (as in metrics.agent_daily).
WITH agents AS (
    SELECT DISTINCT t.conversation_id, t.agent_key
    FROM raw.turns AS t
    WHERE t.partition_date BETWEEN $start_date AND $end_date
      AND t.speaker = 'agent' AND t.agent_key IS NOT NULL
)
SELECT
    s.partition_date,
    a.agent_key,
    s.scorecard,
    count(*) AS conversations,
    count(s.score) AS scored_conversations,
    -- float aggregates in a fixed order, so that a rerun gives bit-identical results
    avg(s.score ORDER BY s.conversation_id) AS score_mean,
    median(s.score) AS score_median,
    min(s.score) AS score_min,
    sum(s.questions_applicable) AS questions_applicable,
    sum(s.questions_met) AS questions_met,
    min(s.rules_version) AS rules_version,
    min(s.rules_hash) AS rules_hash,
    count(s.score) >= $qa_min_conversations AS judged,
    CASE WHEN count(s.score) < $qa_min_conversations THEN format(
        'QA score from {} scored conversations (fewer than {}): not a basis for judging the agent',
        count(s.score), $qa_min_conversations
    ) END AS caution
FROM signals.qa_conversation_scores AS s
JOIN agents AS a USING (conversation_id)
WHERE s.partition_date BETWEEN $start_date AND $end_date
GROUP BY s.partition_date, a.agent_key, s.scorecard
