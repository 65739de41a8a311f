-- signals.bot_outcomes: one row per conversation with a bot turn started on a day in [$start_date, $end_date]
-- (consented conversations only, through signals.conversation_signals), classed into the five bot outcomes by the
-- first rule that holds:
--   escalated             a handoff_to_agent event or an agent turn (metrics.contact_outcomes.escalated);
--   confirmed_resolution  the customer's last turn comes after a bot turn, matches $bots_confirmation_patterns and is
--                         not negative (compound >= $sentiment_negative_threshold or unscored);
--   failed                the bot's last turn is a fallback ($bots_fallback_patterns: it could not answer), or the
--                         bot fell back at least $bots_failed_min_fallbacks times (failure_reason 'fallback');
--   abandoned             the last turn is the bot's and the customer left: the disposition is abandoned or that turn
--                         is a question (ends with ?) nobody answered;
--   assumed_resolution    no complaint (the customer's last turn is neither negative nor an escalation request) and
--                         no repeat contact (metrics.contact_outcomes.repeat_contact);
--   failed                the rest: the bot ended without a fallback, but the customer complained (failure_reason
--                         'complaint') or came back (metrics.contact_outcomes.repeat_contact: 'repeat_contact').
-- A bot loop is a bot turn repeating an earlier bot turn of the conversation word for word (case and spacing aside).
WITH bot_conversations AS (
    SELECT s.partition_date, s.conversation_id, s.channel, s.disposition, s.bot_turns, s.agent_turns, s.handoffs
    FROM signals.conversation_signals AS s
    WHERE s.partition_date BETWEEN $start_date AND $end_date
      AND s.bot_turns > 0
),
turns AS (
    SELECT
        t.conversation_id, t.turn_index, t.speaker, coalesce(t.text, '') AS text, sc.compound,
        regexp_replace(lower(trim(coalesce(t.text, ''))), '\s+', ' ', 'g') AS normalised
    FROM raw.turns AS t
    JOIN bot_conversations AS b USING (conversation_id)
    LEFT JOIN signals.turn_sentiment AS sc
      ON sc.conversation_id = t.conversation_id AND sc.turn_index = t.turn_index
     AND sc.partition_date BETWEEN $start_date AND $end_date
    WHERE t.partition_date BETWEEN $start_date AND $end_date
),
summary AS (
    SELECT
        conversation_id,
        arg_max(speaker, turn_index) AS last_speaker,
        min(turn_index) FILTER (WHERE speaker = 'bot') AS first_bot_turn,
        arg_max(text, turn_index) FILTER (WHERE speaker = 'bot') AS last_bot_text,
        max(turn_index) FILTER (WHERE speaker = 'customer') AS last_customer_turn,
        arg_max(text, turn_index) FILTER (WHERE speaker = 'customer') AS last_customer_text,
        arg_max(compound, turn_index) FILTER (WHERE speaker = 'customer') AS last_customer_compound,
        count(*) FILTER (WHERE speaker = 'bot' AND regexp_matches(text, $bots_fallback_patterns)) AS bot_fallbacks
    FROM turns
    GROUP BY conversation_id
),
bot_answers AS (
    SELECT conversation_id, normalised, count(*) AS times
    FROM turns
    WHERE speaker = 'bot' AND normalised <> ''
    GROUP BY conversation_id, normalised
),
loops AS (
    SELECT conversation_id, sum(times - 1) AS bot_loops, max(times) AS max_bot_repeats
    FROM bot_answers
    GROUP BY conversation_id
),
facts AS (
    SELECT
        b.*,
        s.last_speaker,
        s.last_bot_text,
        s.bot_fallbacks,
        coalesce(l.bot_loops, 0) AS bot_loops,
        coalesce(l.max_bot_repeats, 0) AS max_bot_repeats,
        coalesce(o.repeat_contact, FALSE) AS repeat_contact,
        b.handoffs > 0 OR b.agent_turns > 0 AS escalated,
        coalesce(
            s.last_customer_turn > s.first_bot_turn
            AND regexp_matches(s.last_customer_text, $bots_confirmation_patterns)
            AND coalesce(s.last_customer_compound >= $sentiment_negative_threshold, TRUE),
            FALSE
        ) AS confirmed,
        coalesce(s.last_customer_compound < $sentiment_negative_threshold, FALSE)
        OR coalesce(regexp_matches(s.last_customer_text, $conversation_escalation_patterns), FALSE)
            AS customer_complained,
        coalesce(regexp_matches(s.last_bot_text, $bots_fallback_patterns), FALSE) AS ended_on_fallback,
        coalesce(s.last_speaker = 'bot' AND (b.disposition = 'abandoned' OR rtrim(s.last_bot_text) LIKE '%?'), FALSE)
            AS left_after_bot
    FROM bot_conversations AS b
    LEFT JOIN summary AS s USING (conversation_id)
    LEFT JOIN loops AS l USING (conversation_id)
    LEFT JOIN metrics.contact_outcomes AS o
      ON o.conversation_id = b.conversation_id AND o.partition_date BETWEEN $start_date AND $end_date
),
classed AS (
    SELECT
        *,
        CASE
            WHEN escalated OR confirmed THEN NULL
            WHEN ended_on_fallback OR bot_fallbacks >= $bots_failed_min_fallbacks THEN 'fallback'
            WHEN left_after_bot THEN NULL
            WHEN customer_complained THEN 'complaint'
            WHEN repeat_contact THEN 'repeat_contact'
        END AS failure_reason
    FROM facts
)
SELECT
    partition_date,
    conversation_id,
    channel,
    CASE
        WHEN escalated THEN 'escalated'
        WHEN confirmed THEN 'confirmed_resolution'
        WHEN failure_reason IS NOT NULL THEN 'failed'
        WHEN left_after_bot THEN 'abandoned'
        ELSE 'assumed_resolution'
    END AS outcome,
    failure_reason,
    bot_turns,
    last_speaker,
    bot_fallbacks,
    bot_loops,
    max_bot_repeats,
    customer_complained,
    repeat_contact
FROM classed
