-- metrics.contact_outcomes: one row per conversation started on a day in [$start_date, $end_date] of a customer who
-- has not refused analytics consent (consented(): signals of earlier days may predate a refusal).
-- Definitions (docs/metrics.md): contained = bot turns and no agent turn and no handoff; repeat contact =
-- another conversation of the same customer, any channel, starting within $outcomes_repeat_window_days days
-- after this one's end with the same intent (or either intent unknown); FCR = not abandoned and no repeat;
-- containment-with-quality = contained and passing each part listed in $outcomes_cwq_parts: repeat (no repeat),
-- friction (no session with friction within $outcomes_cwq_friction_window_hours hours after the end), csat (no
-- surveyed CSAT <= $outcomes_cwq_max_bad_csat), sentiment (end sentiment >= $outcomes_cwq_min_end_sentiment, none =
-- neutral), disclosures (no required disclosure of the playbook missing in signals.compliance; late ones were said);
-- cwq_broken_by is the first listed part that fails. Repeat chains (same customer and intent, each within R days of
-- the previous end) are followed $outcomes_chain_lookback_days days back and forward.
-- Failure demand (Seddon): a contact chasing an open journey (a repeat: not the first contact of its chain), preceded
-- within $journeys_pre_contact_window_minutes by a session with an error or crash, or with friction, or of an intent
-- listed in $failure_demand_intents; every other contact is value demand. Its cause is the first of these that holds.
WITH contacts AS (
    SELECT *
    FROM repeat_chains($start_date - to_days(CAST($outcomes_chain_lookback_days AS INTEGER)),
                       $end_date + to_days(CAST($outcomes_chain_lookback_days AS INTEGER)),
                       $outcomes_repeat_window_days)
),
costed AS (
    SELECT
        c.*,
        c.bot_turns > 0 AND c.agent_turns = 0 AND c.handoffs = 0 AS contained,
        c.handoffs > 0 OR (c.bot_turns > 0 AND c.agent_turns > 0) AS escalated,
        coalesce(c.disposition = 'abandoned', FALSE) AS abandoned,
        CASE
            WHEN c.agent_turns = 0 AND c.agent_joined_at IS NULL THEN 0.0
            WHEN m.written_reply_minutes IS NOT NULL THEN c.agent_turns * m.written_reply_minutes
            ELSE greatest(epoch(c.ended_at - coalesce(c.agent_joined_at, c.started_at)), 0) / 60.0
        END AS agent_minutes,
        m.agent_cost_per_minute,
        m.after_contact_work_minutes
    FROM contacts AS c
    JOIN cost_model AS m USING (channel)
),
with_cost AS (
    SELECT
        *,
        (CASE WHEN bot_turns > 0 THEN $costs_bot_cost_per_conversation ELSE 0 END)
        + agent_minutes * agent_cost_per_minute
        + (CASE WHEN agent_minutes > 0 THEN after_contact_work_minutes * agent_cost_per_minute ELSE 0 END)
        + transfers * $costs_transfer_overhead AS cost
    FROM costed
),
next_contacts AS (
    SELECT
        a.conversation_id,
        min(b.started_at) AS next_contact_at
    FROM with_cost AS a
    JOIN with_cost AS b
      ON b.customer_key = a.customer_key
     AND b.conversation_id <> a.conversation_id
     AND b.started_at > a.ended_at
     AND b.started_at <= a.ended_at + to_days(CAST($outcomes_repeat_window_days AS INTEGER))
     AND (b.intent = a.intent OR a.intent = 'unknown' OR b.intent = 'unknown')
    GROUP BY a.conversation_id
),
chains AS (
    SELECT
        customer_key, intent, chain_number,
        arg_min(conversation_id, started_at) AS chain_id,
        count(*) AS chain_length,
        sum(cost ORDER BY started_at, conversation_id) AS chain_cost,
        min(started_at) AS chain_started_at,
        arg_max(conversation_id, started_at) AS last_conversation_id,
        coalesce(arg_max_null(disposition, started_at) = 'resolved', FALSE) AS chain_resolved,
        arg_max(ended_at, started_at) AS last_ended_at
    FROM with_cost
    GROUP BY customer_key, intent, chain_number
),
frictions AS (
    SELECT w.conversation_id, count(*) AS friction_sessions_after
    FROM with_cost AS w
    JOIN signals.session_friction AS f
      ON f.customer_key = w.customer_key
     AND f.had_friction
     AND f.session_start > w.ended_at
     AND f.session_start <= w.ended_at + to_hours(CAST($outcomes_cwq_friction_window_hours AS INTEGER))
    WHERE f.partition_date BETWEEN $start_date AND $end_date + INTERVAL 2 DAY
    GROUP BY w.conversation_id
),
missing_disclosures AS (
    SELECT conversation_id, count(*) AS disclosures_missing
    FROM signals.compliance
    WHERE partition_date BETWEEN $start_date AND $end_date AND status = 'missing'
    GROUP BY conversation_id
),
preceding_frictions AS (
    SELECT DISTINCT conversation_id
    FROM preceding_friction($start_date, $end_date, $journeys_pre_contact_window_minutes)
),
preceding_errors AS (
    SELECT DISTINCT conversation_id
    FROM preceding_sessions($start_date, $end_date, $journeys_pre_contact_window_minutes)
    WHERE errors > 0 OR crashes > 0
),
outcomes AS (
    SELECT
        n.*,
        nc.next_contact_at IS NOT NULL AS repeat_contact,
        nc.next_contact_at,
        coalesce(fr.friction_sessions_after, 0) AS friction_sessions_after,
        coalesce(md.disclosures_missing, 0) AS disclosures_missing,
        pf.conversation_id IS NOT NULL AS pre_contact_friction,
        pe.conversation_id IS NOT NULL AS pre_contact_error,
        cp.predicted_csat,
        ch.chain_id,
        row_number() OVER chain_order AS chain_position,
        sum(n.cost) OVER (chain_order ROWS UNBOUNDED PRECEDING) AS chain_cost_so_far,
        ch.chain_length,
        ch.chain_resolved,
        ch.chain_cost,
        ch.chain_started_at,
        ch.last_ended_at,
        ch.last_conversation_id
    FROM with_cost AS n
    LEFT JOIN next_contacts AS nc USING (conversation_id)
    LEFT JOIN frictions AS fr USING (conversation_id)
    LEFT JOIN missing_disclosures AS md USING (conversation_id)
    LEFT JOIN preceding_frictions AS pf USING (conversation_id)
    LEFT JOIN preceding_errors AS pe USING (conversation_id)
    LEFT JOIN signals.csat_predictions AS cp USING (conversation_id)
    JOIN chains AS ch USING (customer_key, intent, chain_number)
    WINDOW chain_order AS (
        PARTITION BY n.customer_key, n.intent, n.chain_number ORDER BY n.started_at, n.conversation_id
    )
)
SELECT
    partition_date,
    conversation_id,
    customer_key,
    channel,
    queue,
    intent,
    intent_source,
    started_at,
    ended_at,
    disposition,
    csat,
    contained,
    escalated,
    abandoned,
    repeat_contact,
    next_contact_at,
    NOT abandoned AND NOT repeat_contact AS fcr,
    pre_contact_friction,
    -- containment-with-quality, the parts that failed and the first of them in the configured order
    contained AND cwq_broken_by IS NULL AS contained_with_quality,
    cwq_failed_repeat,
    cwq_failed_sentiment,
    cwq_failed_csat,
    cwq_failed_friction,
    cwq_failed_disclosures,
    cwq_broken_by,
    sentiment_end,
    predicted_csat,
    escalation_requests,
    handoffs,
    transfers,
    hold_seconds,
    duration_seconds AS handle_time_seconds,
    agent_minutes,
    cost,
    chain_id,
    chain_position,
    chain_length,
    CASE WHEN chain_resolved THEN 'resolved' ELSE 'open' END AS chain_status,
    conversation_id = last_conversation_id AS resolves_chain,
    CASE WHEN chain_resolved THEN chain_cost END AS cost_to_resolve,
    chain_cost_so_far,
    CASE WHEN chain_resolved THEN epoch(last_ended_at - chain_started_at) END AS time_to_resolve_seconds,
    chasing_open_journey,
    pre_contact_error,
    failure_intent,
    CASE WHEN chasing_open_journey OR pre_contact_error OR pre_contact_friction OR failure_intent
         THEN 'failure' ELSE 'value' END AS demand_class,
    CASE WHEN chasing_open_journey THEN 'chasing_open_journey'
         WHEN pre_contact_error THEN 'pre_contact_error'
         WHEN pre_contact_friction THEN 'pre_contact_friction'
         WHEN failure_intent THEN 'failure_intent' END AS failure_demand_cause
FROM (
    SELECT
        *,
        list_filter(
            CAST($outcomes_cwq_parts AS VARCHAR[]),
            part -> CASE part
                WHEN 'repeat' THEN cwq_failed_repeat
                WHEN 'friction' THEN cwq_failed_friction
                WHEN 'csat' THEN cwq_failed_csat
                WHEN 'sentiment' THEN cwq_failed_sentiment
                WHEN 'disclosures' THEN cwq_failed_disclosures
            END
        )[1] AS cwq_broken_by
    FROM (
        SELECT
            *,
            chain_position > 1 AS chasing_open_journey,
            list_contains(CAST($failure_demand_intents AS VARCHAR[]), intent) AS failure_intent,
            -- a part that is not listed never fails
            contained AND repeat_contact
                AND list_contains(CAST($outcomes_cwq_parts AS VARCHAR[]), 'repeat') AS cwq_failed_repeat,
            contained AND friction_sessions_after > 0
                AND list_contains(CAST($outcomes_cwq_parts AS VARCHAR[]), 'friction') AS cwq_failed_friction,
            contained AND coalesce(csat <= $outcomes_cwq_max_bad_csat, FALSE)
                AND list_contains(CAST($outcomes_cwq_parts AS VARCHAR[]), 'csat') AS cwq_failed_csat,
            contained AND coalesce(sentiment_end, 0) < $outcomes_cwq_min_end_sentiment
                AND list_contains(CAST($outcomes_cwq_parts AS VARCHAR[]), 'sentiment') AS cwq_failed_sentiment,
            contained AND disclosures_missing > 0
                AND list_contains(CAST($outcomes_cwq_parts AS VARCHAR[]), 'disclosures') AS cwq_failed_disclosures
        FROM outcomes
    )
)
WHERE partition_date BETWEEN $start_date AND $end_date
