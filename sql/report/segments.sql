-- Report executive summary: the counts of the period $start_date..$end_date per channel and per intent (dimension,
-- segment), so that each headline figure's change against the previous period splits into every segment's part of
-- it; with the median cost-to-resolve of the chains each segment resolved and the predicted CSAT of its contacts.
WITH counts AS (
    SELECT
        if(grouping(channel) = 0, 'channel', 'intent') AS dimension,
        coalesce(channel, intent) AS segment,
        sum(contacts) AS contacts,
        sum(contained) AS contained,
        sum(contained_with_quality) AS contained_with_quality,
        sum(fcr) AS fcr,
        sum(repeat_contacts) AS repeat_contacts,
        sum(escalated) AS escalated,
        sum(abandoned) AS abandoned,
        sum(cost_total) AS cost_total,
        sum(surveyed) AS surveyed,
        coalesce(sum(csat_mean * surveyed), 0) AS csat_total
    FROM metrics.daily_outcomes
    WHERE partition_date BETWEEN $start_date AND $end_date
    GROUP BY GROUPING SETS ((channel), (intent))
),
contacts AS (
    SELECT
        if(grouping(channel) = 0, 'channel', 'intent') AS dimension,
        coalesce(channel, intent) AS segment,
        count(predicted_csat) AS predicted,
        coalesce(sum(predicted_csat), 0) AS predicted_csat_total,
        count(*) FILTER (WHERE resolves_chain AND chain_status = 'resolved') AS chains_resolved,
        median(cost_to_resolve) FILTER (WHERE resolves_chain AND chain_status = 'resolved') AS cost_to_resolve_median
    FROM metrics.contact_outcomes
    WHERE partition_date BETWEEN $start_date AND $end_date
    GROUP BY GROUPING SETS ((channel), (intent))
)
SELECT
    c.*,
    coalesce(o.predicted, 0) AS predicted,
    coalesce(o.predicted_csat_total, 0) AS predicted_csat_total,
    coalesce(o.chains_resolved, 0) AS chains_resolved,
    o.cost_to_resolve_median
FROM counts AS c
LEFT JOIN contacts AS o USING (dimension, segment)
WHERE c.contacts > 0
ORDER BY c.dimension, c.contacts DESC, c.segment
