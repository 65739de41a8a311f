-- Report next issues: the intent transitions (metrics.intent_transitions) of the latest day up to $end_date - which
-- reason customers contact us about next after each reason, over the window ending on that day - largest first.
SELECT
    partition_date,
    window_start,
    from_intent,
    to_intent,
    transitions,
    from_contacts,
    share_of_contacts,
    share_of_next_issues
FROM metrics.intent_transitions
WHERE partition_date = (
    SELECT max(t.partition_date) FROM metrics.intent_transitions AS t
    WHERE t.partition_date BETWEEN $start_date AND $end_date
)
ORDER BY transitions DESC, from_intent, to_intent
