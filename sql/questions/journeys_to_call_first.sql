-- Which open journeys should we reach out to before the customer calls again? The latest day's repeat-risk list:
-- journeys whose repeat window is still running, highest predicted probability of a repeat contact first, with the
-- factors that raise it.
SELECT
    risk_rank,
    journey_id,
    customer_key,
    intent,
    contacts_so_far,
    last_disposition,
    repeat_window_ends_at,
    round(risk, 3) AS risk,
    top_factors
FROM metrics.repeat_risk
WHERE partition_date = (SELECT max(latest.partition_date) FROM metrics.repeat_risk AS latest)
ORDER BY risk_rank
LIMIT 20;
