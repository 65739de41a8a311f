-- Report CSAT corrected for who answers: metrics.csat_population's rows up to the period's last day ($end_date) -
-- the day rows for the trend and the window rows, the last of which is the headline - from $start_date's history on.
SELECT
    partition_date,
    period,
    window_start,
    contacts,
    surveyed,
    response_rate,
    naive_mean,
    estimated,
    ipw_mean,
    ipw_low,
    ipw_high,
    ipw_minus_naive,
    effective_sample_size,
    propensity_auc,
    predicted_mean,
    predicted_contacts
FROM metrics.csat_population
WHERE partition_date <= $end_date AND (period = 'day' OR partition_date >= $start_date)
ORDER BY period, partition_date
