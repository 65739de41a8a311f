-- The analytics consent rule, defined once (working file only). A customer refuses when any conversation of theirs
-- says consent_analytics false (or does not say true), and the refusal is sticky: it applies to all of their data,
-- before and after it, including the devices they used. audit.consent_refusals remembers refusals whose
-- conversations raw retention deleted. Every SQL file that reads customer data keeps the consented population with
-- consented(customer_key); sessions and publishing also leave out main.refused_records (the refusing customers'
-- devices, conversations and sessions).
CREATE OR REPLACE VIEW main.refused_customers AS
SELECT customer_key FROM raw.conversations WHERE NOT coalesce(consent_analytics, FALSE) AND customer_key IS NOT NULL
UNION
SELECT customer_key FROM audit.consent_refusals;
CREATE OR REPLACE VIEW main.refused_records AS
SELECT * FROM customer_records((SELECT list(customer_key) FROM main.refused_customers));
-- True for a customer who has not refused analytics consent, NULL for a row without a customer (logged-out sessions
-- decide with coalesce).
CREATE OR REPLACE MACRO consented(key) AS key NOT IN (SELECT customer_key FROM main.refused_customers);
