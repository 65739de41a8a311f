-- What the population CSAT reads: every consented contact started on a day in [$start_date, $end_date] with its
-- conversation signals and surveyed CSAT (contacts() in sql/setup/contacts.sql) and its predicted CSAT, if scored.
SELECT c.*, p.predicted_csat, p.model_version AS csat_model_version
FROM contacts($start_date, $end_date) AS c
LEFT JOIN signals.csat_predictions AS p
  ON p.conversation_id = c.conversation_id AND p.partition_date BETWEEN $start_date AND $end_date
ORDER BY c.conversation_id
