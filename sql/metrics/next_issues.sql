-- metrics.next_issues: one row per day in [$start_date, $end_date] x intent of the consented contacts started that
-- day: how many were followed by a next issue, a contact of the same customer (any channel) with another known
-- intent starting after the contact's end and within $next_issues_window_days days of it (the next_issues macro,
-- sql/setup/contacts.sql), with the rate and its 95% Wilson interval and the most frequent next intent. Contacts
-- counted under 'unknown' are listed with no next issue (an unknown intent cannot be said to differ). A day less
-- than the window before the last day loaded can still gain next issues on a later run.
WITH contacts AS (
    SELECT *
    FROM next_issues($start_date, $end_date, $next_issues_window_days)
),
next_counts AS (
    SELECT partition_date, intent, next_intent, count(*) AS n
    FROM contacts
    WHERE next_intent IS NOT NULL
    GROUP BY ALL
),
top_next AS (
    SELECT
        partition_date, intent,
        first(next_intent ORDER BY n DESC, next_intent) AS top_next_intent,
        max(n) AS top_next_contacts
    FROM next_counts
    GROUP BY ALL
)
SELECT
    c.partition_date,
    c.intent,
    count(*) AS contacts,
    count(c.next_intent) AS next_issue_contacts,
    count(c.next_intent) / count(*) AS next_issue_rate,
    wilson_low(count(c.next_intent), count(*)) AS next_issue_rate_low,
    wilson_high(count(c.next_intent), count(*)) AS next_issue_rate_high,
    median(epoch(c.next_started_at - c.ended_at) / 3600.0) AS hours_to_next_issue_median,
    any_value(t.top_next_intent) AS top_next_intent,
    coalesce(any_value(t.top_next_contacts), 0) AS top_next_contacts,
    CAST($next_issues_window_days AS INTEGER) AS window_days
FROM contacts AS c
LEFT JOIN top_next AS t USING (partition_date, intent)
GROUP BY c.partition_date, c.intent
