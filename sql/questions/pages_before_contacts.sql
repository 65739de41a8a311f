-- Which pages precede contacts? Pages the customer viewed (logged in) in the hour before a contact started, the
-- window of journeys.pre_contact_window_minutes; digits in paths become {n} so that /orders/123 and /orders/456
-- count as one page. Each contact counts once per page.
WITH page_views AS (
    SELECT customer_key, ts, regexp_replace(page, '[0-9]+', '{n}', 'g') AS page
    FROM raw.events
    WHERE event_type = 'page_view' AND customer_key IS NOT NULL
),
viewed_before AS (
    SELECT DISTINCT o.conversation_id, o.intent, o.pre_contact_friction, p.page
    FROM metrics.contact_outcomes AS o
    JOIN page_views AS p
      ON p.customer_key = o.customer_key
     AND p.ts BETWEEN o.started_at - INTERVAL 60 MINUTE AND o.started_at
),
intents AS (
    SELECT page, intent, count(*) AS contacts
    FROM viewed_before
    GROUP BY page, intent
)
SELECT
    page,
    count(*) AS contacts,
    round(count(*) / (SELECT count(*) FROM metrics.contact_outcomes), 3) AS share_of_contacts,
    count(*) FILTER (WHERE pre_contact_friction) AS contacts_after_friction,
    (SELECT first(i.intent ORDER BY i.contacts DESC, i.intent) FROM intents AS i WHERE i.page = v.page) AS top_intent
FROM viewed_before AS v
GROUP BY page
ORDER BY contacts DESC, page
LIMIT 20;
