-- Report headline and executive summary: counts of the period $start_date..$end_date summed from
-- metrics.daily_outcomes, so that rates and their Wilson intervals use every contact of the period once - overall
-- (dimension 'all'), per channel and per intent (dimension, segment): the headline shows the first two, and each
-- headline figure's change against the previous period splits into every channel's or intent's part of it.
-- Medians and p90s cannot be summed, so cost- and time-to-resolve (and predicted CSAT) come from the resolved chains in
-- metrics.contact_outcomes, each counted once on the channel (intent) of the contact that resolved it (as
-- daily_outcomes).
WITH counts AS (
    SELECT
        CASE WHEN grouping(channel) = 0 THEN 'channel' WHEN grouping(intent) = 0 THEN 'intent' ELSE 'all' END
            AS dimension,
        coalesce(channel, intent) AS segment,
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
    GROUP BY GROUPING SETS ((channel), (intent), ())
),

outcomes AS (
    SELECT
        CASE WHEN grouping(channel) = 0 THEN 'channel' WHEN grouping(intent) = 0 THEN 'intent' ELSE 'all' END
            AS dimension,
        coalesce(channel, intent) AS segment,
        count(*) FILTER (WHERE resolves_chain AND chain_status = 'resolved') AS chains_resolved,
        median(cost_to_resolve) FILTER (WHERE resolves_chain AND chain_status = 'resolved') AS cost_to_resolve_median,
        quantile_cont(cost_to_resolve, 0.9) FILTER (WHERE resolves_chain AND chain_status = 'resolved')
            AS cost_to_resolve_p90,
        median(time_to_resolve_seconds) FILTER (WHERE resolves_chain AND chain_status = 'resolved')
            AS time_to_resolve_median_seconds,
        avg(predicted_csat) AS predicted_csat_mean,
        count(predicted_csat) AS predicted,
        coalesce(sum(predicted_csat), 0) AS predicted_csat_total
    FROM metrics.contact_outcomes
    WHERE partition_date BETWEEN $start_date AND $end_date
    GROUP BY GROUPING SETS ((channel), (intent), ())
)

SELECT
    c.*,
    coalesce(o.chains_resolved, 0) AS chains_resolved,
    o.cost_to_resolve_median,
    o.cost_to_resolve_p90,
    o.time_to_resolve_median_seconds,
    o.predicted_csat_mean,
    coalesce(o.predicted, 0) AS predicted,
    coalesce(o.predicted_csat_total, 0) AS predicted_csat_total
FROM counts AS c
LEFT JOIN outcomes AS o ON c.dimension = o.dimension AND c.segment IS NOT DISTINCT FROM o.segment
WHERE c.contacts > 0
ORDER BY c.dimension = 'all', c.dimension, c.contacts DESC, c.segment
