-- What the repeat-risk model trains on and scores: every consented contact started on a day in
-- [$start_date, $end_date] with its outcome and journey so far (metrics.contact_outcomes: repeat_contact, chain,
-- cost, intent) and its conversation signals (signals.conversation_signals, for the columns both tables hold).
SELECT
    s.* EXCLUDE (partition_date, customer_key, started_at, ended_at),
    o.* EXCLUDE (conversation_id, channel, queue, disposition, csat, sentiment_end, escalation_requests, handoffs,
                 transfers, hold_seconds)
FROM metrics.contact_outcomes AS o
JOIN signals.conversation_signals AS s USING (conversation_id)
WHERE o.partition_date BETWEEN $start_date AND $end_date
  AND consented(o.customer_key)
ORDER BY o.conversation_id
