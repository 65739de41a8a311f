-- Report trends: per day, contacts, containment and containment-with-quality counts (from
-- metrics.daily_outcomes) and the median and p90 cost-to-resolve of the chains resolved that day.
WITH days AS (
    SELECT
        partition_date,
        sum(contacts) AS contacts,
        sum(contained) AS contained,
        sum(contained_with_quality) AS contained_with_quality
    FROM metrics.daily_outcomes
    GROUP BY partition_date
),
resolved AS (
    SELECT
        partition_date,
        count(*) AS chains_resolved,
        median(cost_to_resolve) AS cost_to_resolve_median,
        quantile_cont(cost_to_resolve, 0.9) AS cost_to_resolve_p90
    FROM metrics.contact_outcomes
    WHERE resolves_chain AND chain_status = 'resolved'
    GROUP BY partition_date
)
SELECT d.*, coalesce(r.chains_resolved, 0) AS chains_resolved, r.cost_to_resolve_median, r.cost_to_resolve_p90
FROM days AS d
LEFT JOIN resolved AS r USING (partition_date)
WHERE d.contacts > 0
ORDER BY partition_date
