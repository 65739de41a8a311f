-- What the repeat-risk model trains on and scores: every consented contact started on a day in
-- [$start_date, $end_date] with its outcome and journey so far (metrics.contact_outcomes: repeat_contact, chain,
-- cost, intent), its conversation signals (signals.conversation_signals, for the columns both tables hold) and
-- acted_at: the first operators' action (raw.actions) on its journey from its start until the journey's next
-- contact starts (an action after that follows the next contact), null when none. An action's journey is the one it
-- names, else its conversation's (the actions contract requires one of the two). acted_at may lie after the
-- contact's prediction time: the model reads only the actions known by then (journey_risk_features in
-- cx_signals/ml/features.py), and a next contact that starts later than that bounds nothing known. Actions and
-- next contacts are read up to the day after $end_date, for the contacts that end after midnight.
WITH contacts AS (
    SELECT *
    FROM metrics.contact_outcomes
    WHERE partition_date BETWEEN $start_date AND $end_date
      AND consented(customer_key)
),
next_starts AS (
    SELECT
        conversation_id,
        lead(started_at) OVER (PARTITION BY chain_id ORDER BY started_at, conversation_id) AS next_started_at
    FROM metrics.contact_outcomes
    WHERE partition_date BETWEEN $start_date AND CAST($end_date AS DATE) + 1
),
actions AS (
    SELECT a.ts, coalesce(a.journey_id, c.chain_id) AS journey_id
    FROM raw.actions AS a
    LEFT JOIN metrics.contact_outcomes AS c
      ON c.conversation_id = a.conversation_id
     AND c.partition_date BETWEEN $start_date AND CAST($end_date AS DATE) + 1
    WHERE a.partition_date BETWEEN $start_date AND CAST($end_date AS DATE) + 1
),
acted AS (
    SELECT o.conversation_id, min(a.ts) AS acted_at
    FROM contacts AS o
    JOIN next_starts AS n USING (conversation_id)
    JOIN actions AS a
      ON a.journey_id = o.chain_id
     AND a.ts >= o.started_at
     AND (n.next_started_at IS NULL OR a.ts < n.next_started_at)
    GROUP BY o.conversation_id
)
SELECT
    s.* EXCLUDE (partition_date, customer_key, started_at, ended_at),
    o.* EXCLUDE (conversation_id, channel, queue, disposition, csat, sentiment_end, escalation_requests, handoffs,
                 transfers, hold_seconds),
    x.acted_at
FROM contacts AS o
JOIN signals.conversation_signals AS s USING (conversation_id)
LEFT JOIN acted AS x USING (conversation_id)
ORDER BY o.conversation_id
