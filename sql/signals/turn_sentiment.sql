-- signals.turn_sentiment: one row per turn of _turn_texts (sql/signals/turn_texts.sql over [$start_date, $end_date])
-- with the VADER scores of its text from _scores (text -> compound, pos, neu, neg, computed in Python; the row of
-- the NULL text holds the neutral scores of a turn without words).
SELECT t.partition_date, t.conversation_id, t.turn_index, t.speaker, s.compound, s.pos, s.neu, s.neg
FROM _turn_texts AS t
LEFT JOIN _scores AS s ON s.text IS NOT DISTINCT FROM t.text
WHERE t.partition_date BETWEEN $start_date AND $end_date
