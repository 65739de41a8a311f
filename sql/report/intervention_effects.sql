-- Report interventions: did acting on alerts help? metrics.intervention_effects on the latest day of the period
-- ($start_date..$end_date), per alert rule and for all rules together (rule 'all' first).
WITH in_period AS (
    SELECT * FROM metrics.intervention_effects WHERE partition_date BETWEEN $start_date AND $end_date
)
SELECT
    partition_date,
    window_start,
    rule,
    alerted_journeys,
    acted_journeys,
    held_out_journeys,
    held_out_with_action,
    acted_repeat_rate,
    held_out_repeat_rate,
    repeat_rate_difference,
    repeat_rate_difference_low,
    repeat_rate_difference_high,
    hours_to_resolve_difference,
    hours_to_resolve_difference_low,
    hours_to_resolve_difference_high,
    cost_to_resolve_difference,
    cost_to_resolve_difference_low,
    cost_to_resolve_difference_high
FROM in_period
WHERE partition_date = (SELECT max(d.partition_date) FROM in_period AS d)
ORDER BY rule != 'all', alerted_journeys DESC, rule
