-- metrics.agent_daily: one row per day in [$start_date, $end_date] x pseudonymous agent (raw.turns.agent_key of
-- agent turns; never agent_id), for conversations of customers who have not refused analytics consent only
-- (joined through metrics.contact_outcomes, and consented()).
-- A conversation counts for EVERY agent who spoke in it, so a transferred conversation counts for both agents and
-- the agents' conversations add up to more than the day's contacts; conversations_as_last_agent counts it for
-- the last agent only. From an agent's turn on, the conversation is "held" by that agent until another agent
-- speaks: handle time, the customer's escalation requests and transfer events are attributed to the holder.
-- Handle time is the time held (each turn to the next, the last to the end) on synchronous channels; on channels
-- with costs.written_reply_minutes (the cost_model view: email, messaging, social) it is the agent's replies x
-- minutes per reply, as the cost model counts agent time there (elapsed time on those channels spans hours).
-- Conversation-level outcomes (sentiment shift, repeat contact, FCR, CSAT) count for every agent who spoke.
-- Sentiment lift and CSAT of an agent-day rest on few conversations: below $fairness_agent_min_sentiment_conversations
-- reliable shifts or $fairness_agent_min_surveyed surveys they are not judged, and `caution` says why in words.
WITH conversations AS (
    SELECT
        o.partition_date, o.conversation_id, o.ended_at, o.repeat_contact, o.fcr, o.csat,
        CASE WHEN s.sentiment_shift_reliable THEN s.sentiment_shift END AS sentiment_lift,
        m.written_reply_minutes
    FROM metrics.contact_outcomes AS o
    LEFT JOIN cost_model AS m USING (channel)
    LEFT JOIN signals.conversation_signals AS s
      ON s.conversation_id = o.conversation_id AND s.partition_date BETWEEN $start_date AND $end_date
    WHERE o.partition_date BETWEEN $start_date AND $end_date
      AND consented(o.customer_key)
),
turns AS (
    SELECT
        t.conversation_id, t.turn_index, t.speaker, t.ts, t.text, c.ended_at, c.written_reply_minutes,
        CASE WHEN t.speaker = 'agent' THEN t.agent_key END AS speaking_agent
    FROM raw.turns AS t
    JOIN conversations AS c USING (conversation_id)
    WHERE t.partition_date BETWEEN $start_date AND $end_date
),
held AS (
    SELECT
        *,
        last_value(speaking_agent IGNORE NULLS) OVER (
            PARTITION BY conversation_id ORDER BY turn_index ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS holder,
        coalesce(lead(ts) OVER (PARTITION BY conversation_id ORDER BY turn_index), ended_at) AS held_until
    FROM turns
),
agent_conversations AS (
    SELECT
        conversation_id,
        holder AS agent_key,
        count(*) FILTER (WHERE speaking_agent = holder) AS agent_turns,
        CASE WHEN any_value(written_reply_minutes) IS NOT NULL
             THEN count(*) FILTER (WHERE speaking_agent = holder) * any_value(written_reply_minutes) * 60.0
             ELSE sum(greatest(epoch_us(held_until - ts), 0)) / 1e6 END AS handle_seconds,
        count(*) FILTER (
            WHERE speaker = 'customer' AND coalesce(regexp_matches(text, $conversation_escalation_patterns), FALSE)
        )
            AS escalation_requests
    FROM held
    WHERE holder IS NOT NULL
    GROUP BY ALL
),
last_agents AS (
    SELECT conversation_id, arg_max(speaking_agent, turn_index) AS agent_key
    FROM turns
    WHERE speaking_agent IS NOT NULL
    GROUP BY conversation_id
),
transfer_events AS (
    SELECT e.conversation_id, e.ts
    FROM raw.conversation_events AS e
    JOIN conversations AS c USING (conversation_id)
    WHERE e.partition_date BETWEEN $start_date AND $end_date AND e.event_type = 'transfer'
),
agent_turns AS (
    SELECT conversation_id, ts, speaking_agent AS agent_key FROM turns WHERE speaking_agent IS NOT NULL
),
transfers AS (
    -- a transfer belongs to the agent who last spoke at or before it; transfers before any agent spoke are no one's
    SELECT e.conversation_id, a.agent_key, count(*) AS transfers
    FROM transfer_events AS e
    ASOF JOIN agent_turns AS a ON a.conversation_id = e.conversation_id AND e.ts >= a.ts
    GROUP BY ALL
)
SELECT
    c.partition_date,
    a.agent_key,
    count(*) AS conversations,
    count(l.agent_key) AS conversations_as_last_agent,
    sum(a.agent_turns) AS agent_turns,
    median(a.handle_seconds) AS handle_time_median_seconds,
    -- float aggregates in a fixed order, so that a rerun gives bit-identical results
    avg(a.handle_seconds ORDER BY a.conversation_id) AS handle_time_mean_seconds,
    sum(a.handle_seconds ORDER BY a.conversation_id) AS handle_time_total_seconds,
    avg(c.sentiment_lift ORDER BY a.conversation_id) AS sentiment_lift_mean,
    count(c.sentiment_lift) AS sentiment_lift_conversations,
    sum(a.escalation_requests) AS escalation_requests,
    coalesce(sum(t.transfers), 0) AS transfers,
    count(*) FILTER (WHERE c.repeat_contact) / count(*) AS repeat_rate,
    count(*) FILTER (WHERE c.fcr) / count(*) AS fcr_rate,
    avg(c.csat) AS csat_mean,
    count(c.csat) AS surveyed,
    count(c.sentiment_lift) >= $fairness_agent_min_sentiment_conversations AS sentiment_lift_judged,
    count(c.csat) >= $fairness_agent_min_surveyed AS csat_judged,
    nullif(concat_ws(
        '; ',
        CASE WHEN count(c.sentiment_lift) < $fairness_agent_min_sentiment_conversations THEN format(
            'sentiment lift from {} conversations (fewer than {}): not a basis for judging the agent',
            count(c.sentiment_lift), $fairness_agent_min_sentiment_conversations
        ) END,
        CASE WHEN count(c.csat) < $fairness_agent_min_surveyed THEN format(
            'CSAT from {} surveys (fewer than {}): not a basis for judging the agent',
            count(c.csat), $fairness_agent_min_surveyed
        ) END
    ), '') AS caution
FROM agent_conversations AS a
JOIN conversations AS c USING (conversation_id)
LEFT JOIN last_agents AS l USING (conversation_id, agent_key)
LEFT JOIN transfers AS t USING (conversation_id, agent_key)
GROUP BY c.partition_date, a.agent_key
