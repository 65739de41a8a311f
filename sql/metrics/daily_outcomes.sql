-- metrics.daily_outcomes: one row per day x channel x intent in [$start_date, $end_date], from
-- metrics.contact_outcomes. Rates carry their count, denominator and a 95% Wilson interval; costs and times
-- carry mean, median and p90. Cost-to-resolve and time-to-resolve count each resolved chain once, on the day
-- and channel of the contact that resolved it.
WITH rates AS (
    SELECT
        partition_date, channel, intent,
        count(*) AS contacts,
        count(*) FILTER (WHERE contained) AS contained,
        count(*) FILTER (WHERE escalated) AS escalated,
        count(*) FILTER (WHERE abandoned) AS abandoned,
        count(*) FILTER (WHERE repeat_contact) AS repeat_contacts,
        count(*) FILTER (WHERE fcr) AS fcr,
        count(*) FILTER (WHERE contained_with_quality) AS contained_with_quality,
        count(*) FILTER (WHERE cwq_failed_repeat) AS cwq_failed_repeat,
        count(*) FILTER (WHERE cwq_failed_sentiment) AS cwq_failed_sentiment,
        count(*) FILTER (WHERE cwq_failed_csat) AS cwq_failed_csat,
        count(*) FILTER (WHERE cwq_failed_friction) AS cwq_failed_friction,
        count(csat) AS surveyed,
        avg(csat) AS csat_mean,
        sum(cost ORDER BY conversation_id) AS cost_total,
        avg(cost ORDER BY conversation_id) AS cost_mean,
        median(cost) AS cost_median,
        quantile_cont(cost, 0.9) AS cost_p90,
        median(handle_time_seconds) AS handle_time_median_seconds,
        quantile_cont(handle_time_seconds, 0.9) AS handle_time_p90_seconds
    FROM metrics.contact_outcomes
    WHERE partition_date BETWEEN $start_date AND $end_date
      AND consented(customer_key)
    GROUP BY ALL
),
resolutions AS (
    SELECT
        partition_date, channel, intent,
        count(*) AS chains_resolved,
        median(cost_to_resolve) AS cost_to_resolve_median,
        quantile_cont(cost_to_resolve, 0.9) AS cost_to_resolve_p90,
        median(time_to_resolve_seconds) AS time_to_resolve_median_seconds,
        quantile_cont(time_to_resolve_seconds, 0.9) AS time_to_resolve_p90_seconds
    FROM metrics.contact_outcomes
    WHERE partition_date BETWEEN $start_date AND $end_date AND resolves_chain AND chain_status = 'resolved'
      AND consented(customer_key)
    GROUP BY ALL
)
SELECT
    r.*,
    r.contained / r.contacts AS containment_rate,
    wilson_low(r.contained, r.contacts) AS containment_rate_low,
    wilson_high(r.contained, r.contacts) AS containment_rate_high,
    r.contained_with_quality / r.contacts AS cwq_rate,
    wilson_low(r.contained_with_quality, r.contacts) AS cwq_rate_low,
    wilson_high(r.contained_with_quality, r.contacts) AS cwq_rate_high,
    r.escalated / r.contacts AS escalation_rate,
    wilson_low(r.escalated, r.contacts) AS escalation_rate_low,
    wilson_high(r.escalated, r.contacts) AS escalation_rate_high,
    r.abandoned / r.contacts AS abandonment_rate,
    wilson_low(r.abandoned, r.contacts) AS abandonment_rate_low,
    wilson_high(r.abandoned, r.contacts) AS abandonment_rate_high,
    r.repeat_contacts / r.contacts AS repeat_rate,
    wilson_low(r.repeat_contacts, r.contacts) AS repeat_rate_low,
    wilson_high(r.repeat_contacts, r.contacts) AS repeat_rate_high,
    r.fcr / r.contacts AS fcr_rate,
    wilson_low(r.fcr, r.contacts) AS fcr_rate_low,
    wilson_high(r.fcr, r.contacts) AS fcr_rate_high,
    coalesce(s.chains_resolved, 0) AS chains_resolved,
    s.cost_to_resolve_median,
    s.cost_to_resolve_p90,
    s.time_to_resolve_median_seconds,
    s.time_to_resolve_p90_seconds
FROM rates AS r
LEFT JOIN resolutions AS s USING (partition_date, channel, intent)
