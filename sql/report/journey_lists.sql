-- Report lists behind the journey tiles: the journeys (signals.journeys) that began in the period
-- $start_date..$end_date - open, begun with digital friction, switching channel - the first $report_top_rows of each,
-- most contacts first, with the list's size.
WITH listed AS (
    SELECT
        unnest(list_filter([
            'all',
            if(status = 'open', 'open', NULL),
            if(pre_contact_friction, 'pre_contact_friction', NULL),
            if(channel_switches > 0, 'switching', NULL)
        ], x -> x IS NOT NULL)) AS list,
        journey_id,
        started_at,
        intent,
        contacts,
        channels,
        friction_sessions,
        failure_demand_contacts,
        status,
        time_to_resolve_seconds
    FROM signals.journeys
    WHERE partition_date BETWEEN $start_date AND $end_date
),
ranked AS (
    SELECT
        *,
        count(*) OVER (PARTITION BY list) AS listed,
        row_number() OVER (PARTITION BY list ORDER BY contacts DESC, started_at DESC, journey_id) AS position
    FROM listed
)
SELECT * EXCLUDE (position)
FROM ranked
WHERE position <= $report_top_rows
ORDER BY list, position
