-- Report lists behind the disclosure tiles: the period's ($start_date..$end_date) conversations that missed a required
-- disclosure, or said one late (signals.compliance), with what the contact cost and scored
-- (metrics.contact_outcomes) - the first $report_top_rows of each, most disclosures missed (late) then costliest first,
-- with the list's size. Same columns as contact_lists.sql.
WITH per_conversation AS (
    SELECT
        conversation_id,
        any_value(partition_date) AS partition_date,
        any_value(channel) AS channel,
        any_value(intent) AS intent,
        list(replace(disclosure, '_', ' ') ORDER BY disclosure) FILTER (WHERE status = 'missing') AS missing,
        list(replace(disclosure, '_', ' ') ORDER BY disclosure) FILTER (WHERE status = 'late') AS late
    FROM signals.compliance
    WHERE partition_date BETWEEN $start_date AND $end_date AND status <> 'said'
    GROUP BY conversation_id
),

listed AS (
    SELECT
        unnest(list_filter([
            if(len(c.missing) > 0, 'disclosure_missing', NULL),
            if(len(c.late) > 0, 'disclosure_late', NULL)
        ], x -> x IS NOT NULL)) AS list,
        c.conversation_id,
        coalesce(o.started_at, CAST(c.partition_date AS TIMESTAMP)) AS started_at,
        c.channel,
        c.intent,
        o.cost,
        o.cost_to_resolve,
        o.csat,
        o.predicted_csat,
        coalesce(len(c.missing), 0) AS missing_count,
        coalesce(len(c.late), 0) AS late_count,
        concat_ws('; ',
            if(len(c.missing) > 0, concat('not said: ', array_to_string(c.missing, ', ')), NULL),
            if(len(c.late) > 0, concat('said late: ', array_to_string(c.late, ', ')), NULL)
        ) AS what_happened
    FROM per_conversation AS c
    LEFT JOIN metrics.contact_outcomes AS o USING (conversation_id)
),

ranked AS (
    SELECT
        *,
        count(*) OVER (PARTITION BY list) AS listed,
        row_number() OVER (
            PARTITION BY list
            ORDER BY
                if(list = 'disclosure_late', late_count, missing_count) DESC,
                cost DESC NULLS LAST,
                started_at DESC,
                conversation_id
        ) AS position
    FROM listed
)

SELECT * EXCLUDE (position, missing_count, late_count)
FROM ranked
WHERE position <= $report_top_rows
ORDER BY list, position
