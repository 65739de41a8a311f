-- Report required disclosures: the period's ($start_date..$end_date) checks of the playbook's required disclosures
-- (signals.compliance, one per conversation and disclosure that applies to it) per disclosure, per journey and
-- overall (dimension 'all'): how many were said in time, late or not at all, who said them, and how many
-- conversations missed at least one.
SELECT
    CASE
        WHEN grouping(disclosure) = 0 THEN 'disclosure'
        WHEN grouping(journey) = 0 THEN 'journey'
        ELSE 'all'
    END AS dimension,
    CASE
        WHEN grouping(disclosure) = 0 THEN disclosure
        WHEN grouping(journey) = 0 THEN coalesce(journey, 'other')
    END AS segment,
    count(*) AS checks,
    count(DISTINCT conversation_id) AS conversations,
    count(DISTINCT conversation_id) FILTER (WHERE status = 'missing') AS conversations_missing,
    count(*) FILTER (WHERE status = 'said') AS said,
    count(*) FILTER (WHERE status = 'late') AS late,
    count(*) FILTER (WHERE status = 'missing') AS missing,
    count(*) FILTER (WHERE said_by = 'bot') AS said_by_bot,
    count(*) FILTER (WHERE said_by = 'agent') AS said_by_agent,
    median(seconds_into_conversation) AS seconds_to_say_median,
    max(within_seconds) AS within_seconds
FROM signals.compliance
WHERE partition_date BETWEEN $start_date AND $end_date
GROUP BY GROUPING SETS ((disclosure), (journey), ())
ORDER BY dimension, missing DESC, segment
