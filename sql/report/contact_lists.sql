-- Report lists behind the tiles: the period's ($start_date..$end_date) contacts of each list (metrics.contact_outcomes)
-- - the first $report_top_rows of each, costliest first (lowest CSAT first for low_csat), with the list's size.
WITH listed AS (
    SELECT
        unnest(list_filter([
            'all',
            if(NOT contained, 'not_contained', NULL),
            if(contained AND NOT contained_with_quality, 'cwq_failed', NULL),
            if(NOT fcr, 'fcr_missed', NULL),
            if(repeat_contact, 'repeat', NULL),
            if(escalated, 'escalated', NULL),
            if(abandoned, 'abandoned', NULL),
            if(resolves_chain AND chain_status = 'resolved', 'resolved', NULL),
            if(coalesce(csat, predicted_csat) <= 2, 'low_csat', NULL),
            if(demand_class = 'failure', 'failure_demand', NULL)
        ], x -> x IS NOT NULL)) AS list,
        conversation_id,
        started_at,
        channel,
        intent,
        cost,
        cost_to_resolve,
        chain_length,
        csat,
        predicted_csat,
        concat_ws(', ',
            CASE failure_demand_cause
                WHEN 'chasing_open_journey' THEN 'chasing an open issue'
                WHEN 'pre_contact_error' THEN 'error just before'
                WHEN 'pre_contact_friction' THEN 'struggled online just before'
                WHEN 'failure_intent' THEN 'reason exists only because something failed'
            END,
            if(cwq_failed_repeat, 'came back', NULL),
            if(cwq_failed_sentiment, 'ended unhappy', NULL),
            if(cwq_failed_csat, 'low survey score', NULL),
            if(cwq_failed_friction, 'struggled online after', NULL),
            if(escalated, 'handed to an agent', NULL),
            if(abandoned, 'left before an answer', NULL),
            if(repeat_contact, 'contacted again', NULL)
        ) AS what_happened
    FROM metrics.contact_outcomes
    WHERE partition_date BETWEEN $start_date AND $end_date
),
ranked AS (
    SELECT
        *,
        count(*) OVER (PARTITION BY list) AS listed,
        row_number() OVER (
            PARTITION BY list
            ORDER BY
                if(list = 'low_csat', coalesce(csat, predicted_csat), 0),
                if(list = 'resolved', cost_to_resolve, cost) DESC,
                started_at DESC,
                conversation_id
        ) AS position
    FROM listed
)
SELECT * EXCLUDE (position)
FROM ranked
WHERE position <= $report_top_rows
ORDER BY list, position
