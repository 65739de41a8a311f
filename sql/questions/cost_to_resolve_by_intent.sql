-- Which intents cost most to resolve? Each resolved journey (repeat chain) counted once, by its resolving contact,
-- with the cost of all its contacts on every channel (currency units of config costs.*).
SELECT
    intent,
    count(*) AS resolved_journeys,
    round(avg(chain_length), 2) AS contacts_per_journey,
    round(median(cost_to_resolve), 2) AS cost_to_resolve_median,
    round(quantile_cont(cost_to_resolve, 0.9), 2) AS cost_to_resolve_p90,
    round(sum(cost_to_resolve), 2) AS cost_to_resolve_total,
    round(median(time_to_resolve_seconds) / 3600, 1) AS time_to_resolve_median_hours
FROM metrics.contact_outcomes
WHERE resolves_chain AND chain_status = 'resolved'
GROUP BY intent
ORDER BY cost_to_resolve_total DESC, intent;
