-- The turns that signals.turn_sentiment scores: every turn on a day in [$start_date, $end_date] of a conversation
-- of a consented customer, with its text (each distinct text is scored once, in Python).
SELECT t.partition_date, t.conversation_id, t.turn_index, t.speaker, t.text
FROM raw.turns AS t
JOIN raw.conversations AS c USING (conversation_id)
WHERE t.partition_date BETWEEN $start_date AND $end_date
  AND consented(c.customer_key)
