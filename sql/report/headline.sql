-- Report headline: counts of the period $start_date..$end_date per channel and overall (channel NULL), summed from
-- metrics.daily_outcomes so that rates and their Wilson intervals use every contact of the period once.
-- Medians and p90s cannot be summed, so cost- and time-to-resolve (and predicted CSAT) come from the resolved chains in
-- metrics.contact_outcomes, each counted once on the channel of the contact that resolved it (as daily_outcomes).
WITH counts AS (
    SELECT
        channel,
        sum(contacts) AS contacts,
        sum(contained) AS contained,
        sum(contained_with_quality) AS contained_with_quality,
        sum(fcr) AS fcr,
        sum(repeat_contacts) AS repeat_contacts,
        sum(escalated) AS escalated,
        sum(abandoned) AS abandoned,
        sum(cwq_failed_repeat) AS cwq_failed_repeat,
        sum(cwq_failed_sentiment) AS cwq_failed_sentiment,
        sum(cwq_failed_csat) AS cwq_failed_csat,
        sum(cwq_failed_friction) AS cwq_failed_friction,
        sum(surveyed) AS surveyed,
        sum(csat_mean * surveyed) / nullif(sum(surveyed), 0) AS csat_mean,
        coalesce(sum(csat_mean * surveyed), 0) AS csat_total,
        sum(cost_total) AS cost_total,
        sum(cost_total) / nullif(sum(contacts), 0) AS cost_per_contact
    FROM metrics.daily_outcomes
    WHERE partition_date BETWEEN $start_date AND $end_date
    GROUP BY GROUPING SETS ((channel), ())
),
resolved AS (
    SELECT
        channel,
        count(*) AS chains_resolved,
        median(cost_to_resolve) AS cost_to_resolve_median,
        quantile_cont(cost_to_resolve, 0.9) AS cost_to_resolve_p90,
        median(time_to_resolve_seconds) AS time_to_resolve_median_seconds
    FROM metrics.contact_outcomes
    WHERE resolves_chain AND chain_status = 'resolved' AND partition_date BETWEEN $start_date AND $end_date
    GROUP BY GROUPING SETS ((channel), ())
),
predicted AS (
    SELECT
        channel,
        avg(predicted_csat) AS predicted_csat_mean,
        count(predicted_csat) AS predicted,
        coalesce(sum(predicted_csat), 0) AS predicted_csat_total
    FROM metrics.contact_outcomes
    WHERE partition_date BETWEEN $start_date AND $end_date
    GROUP BY GROUPING SETS ((channel), ())
)
SELECT
    c.*,
    coalesce(r.chains_resolved, 0) AS chains_resolved,
    r.cost_to_resolve_median,
    r.cost_to_resolve_p90,
    r.time_to_resolve_median_seconds,
    p.predicted_csat_mean,
    coalesce(p.predicted, 0) AS predicted,
    coalesce(p.predicted_csat_total, 0) AS predicted_csat_total
FROM counts AS c
LEFT JOIN resolved AS r ON c.channel IS NOT DISTINCT FROM r.channel
LEFT JOIN predicted AS p ON c.channel IS NOT DISTINCT FROM p.channel
WHERE c.contacts > 0
ORDER BY c.channel IS NULL, c.contacts DESC, c.channel
