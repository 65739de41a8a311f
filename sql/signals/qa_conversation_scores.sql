-- signals.qa_conversation_scores: one row per conversation started on a day in [$start_date, $end_date] and
-- scorecard of signals.qa_answers (consented conversations only, as the answers are).
-- score = weight of the questions met / weight of the questions that apply (met or not_met), in [0, 1]; null when no
-- question with a weight applies. N/A questions count neither way.
SELECT
    a.partition_date,
    a.conversation_id,
    a.scorecard,
    count(*) AS questions,
    count(*) FILTER (WHERE a.answer <> 'not_applicable') AS questions_applicable,
    count(*) FILTER (WHERE a.answer = 'met') AS questions_met,
    coalesce(sum(a.weight) FILTER (WHERE a.answer = 'met'), 0) AS points,
    coalesce(sum(a.weight) FILTER (WHERE a.answer <> 'not_applicable'), 0) AS possible_points,
    sum(a.weight) FILTER (WHERE a.answer = 'met')
    / nullif(sum(a.weight) FILTER (WHERE a.answer <> 'not_applicable'), 0) AS score,
    min(a.rules_version) AS rules_version,
    min(a.rules_hash) AS rules_hash
FROM signals.qa_answers AS a
WHERE a.partition_date BETWEEN $start_date AND $end_date
GROUP BY a.partition_date, a.conversation_id, a.scorecard
