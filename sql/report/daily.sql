-- Report trends: per day, contacts, containment and containment-with-quality counts and surveyed CSAT (from
-- metrics.daily_outcomes), the median and p90 cost-to-resolve of the chains resolved that day and the mean predicted
-- CSAT of the day's contacts (metrics.contact_outcomes).
WITH days AS (
    SELECT
        partition_date,
        sum(contacts) AS contacts,
        sum(contained) AS contained,
        sum(contained_with_quality) AS contained_with_quality,
        sum(surveyed) AS surveyed,
        sum(csat_mean * surveyed) / nullif(sum(surveyed), 0) AS csat_mean
    FROM metrics.daily_outcomes
    GROUP BY partition_date
),
contacts AS (
    SELECT
        partition_date,
        count(*) FILTER (WHERE resolves_chain AND chain_status = 'resolved') AS chains_resolved,
        median(cost_to_resolve) FILTER (WHERE resolves_chain AND chain_status = 'resolved') AS cost_to_resolve_median,
        quantile_cont(cost_to_resolve, 0.9) FILTER (
            WHERE resolves_chain AND chain_status = 'resolved'
        ) AS cost_to_resolve_p90,
        count(predicted_csat) AS predicted,
        avg(predicted_csat) AS predicted_csat_mean
    FROM metrics.contact_outcomes
    GROUP BY partition_date
)
SELECT
    d.*,
    coalesce(r.chains_resolved, 0) AS chains_resolved,
    r.cost_to_resolve_median,
    r.cost_to_resolve_p90,
    coalesce(r.predicted, 0) AS predicted,
    r.predicted_csat_mean
FROM days AS d
LEFT JOIN contacts AS r USING (partition_date)
WHERE d.contacts > 0
ORDER BY partition_date
