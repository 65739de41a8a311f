-- Customers who refuse analytics consent (not consented(), sql/setup/consent.sql) in raw.conversations partitions
-- that retention is about to delete (before $first_kept), remembered in audit.consent_refusals so that the refusal
-- outlives them.
INSERT INTO audit.consent_refusals BY NAME
SELECT DISTINCT customer_key, CAST($recorded_at AS TIMESTAMP) AS recorded_at
FROM raw.conversations
WHERE partition_date < $first_kept
  AND NOT consented(customer_key)
  AND customer_key NOT IN (SELECT customer_key FROM audit.consent_refusals);
