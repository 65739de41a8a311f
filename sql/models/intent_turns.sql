-- What the intent model trains on (the conversations with a source label) and scores: every turn of a consented
-- customer's conversation started on a day in [$start_date, $end_date], with the conversation's label and day.
SELECT t.conversation_id, t.turn_index, t.speaker, t.text, c.intent, c.partition_date
FROM raw.turns AS t
JOIN raw.conversations AS c USING (conversation_id)
WHERE c.partition_date BETWEEN $start_date AND $end_date
  AND consented(c.customer_key)
