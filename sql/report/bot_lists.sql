-- Report lists behind the bot-outcome tiles: the period's ($start_date..$end_date) bot conversations
-- (signals.bot_outcomes) that failed, were abandoned, were escalated or had the bot repeat itself, with what the
-- contact cost and scored (metrics.contact_outcomes) - the first $report_top_rows of each, most loops then costliest
-- first, with the list's size. Same columns as contact_lists.sql.
WITH listed AS (
    SELECT
        unnest(list_filter([
            if(b.outcome = 'failed', 'bot_failed', NULL),
            if(b.outcome = 'abandoned', 'bot_abandoned', NULL),
            if(b.outcome = 'escalated', 'bot_escalated', NULL),
            if(b.bot_loops > 0, 'bot_loops', NULL)
        ], x -> x IS NOT NULL)) AS list,
        b.conversation_id,
        coalesce(o.started_at, CAST(b.partition_date AS TIMESTAMP)) AS started_at,
        b.channel,
        coalesce(o.intent, 'unknown') AS intent,
        o.cost,
        o.cost_to_resolve,
        o.csat,
        o.predicted_csat,
        b.bot_loops,
        concat_ws(', ',
            CASE b.failure_reason
                WHEN 'fallback' THEN 'the bot could not answer'
                WHEN 'complaint' THEN 'the customer complained'
                WHEN 'repeat_contact' THEN 'the customer came back'
            END,
            CASE b.outcome
                WHEN 'abandoned' THEN 'the customer left after the bot spoke'
                WHEN 'escalated' THEN 'handed to an agent'
            END,
            CASE
                WHEN b.bot_fallbacks = 1 THEN 'one bot turn without an answer'
                WHEN b.bot_fallbacks > 1 THEN concat(b.bot_fallbacks, ' bot turns without an answer')
            END,
            if(b.bot_loops > 0, concat(
                'the bot repeated itself ',
                CASE b.bot_loops WHEN 1 THEN 'once' WHEN 2 THEN 'twice' ELSE concat(b.bot_loops, ' times') END
            ), NULL)
        ) AS what_happened
    FROM signals.bot_outcomes AS b
    LEFT JOIN metrics.contact_outcomes AS o USING (conversation_id)
    WHERE b.partition_date BETWEEN $start_date AND $end_date
),

ranked AS (
    SELECT
        *,
        count(*) OVER (PARTITION BY list) AS listed,
        row_number() OVER (
            PARTITION BY list ORDER BY bot_loops DESC, cost DESC NULLS LAST, started_at DESC, conversation_id
        ) AS position
    FROM listed
)

SELECT * EXCLUDE (position, bot_loops)
FROM ranked
WHERE position <= $report_top_rows
ORDER BY list, position
