-- metrics.intent_transitions: one row per day in [$start_date, $end_date] x from-intent x to-intent over the
-- $next_issues_transitions_window_days days ending that day: the consented contacts of the from-intent started in the
-- window whose next issue (their customer's first later contact of another known intent within
-- $next_issues_window_days days of the contact's end; the next_issues macro, sql/setup/contacts.sql) had the
-- to-intent, with their share of the from-intent's contacts and of its next issues. Shares of one from-intent and day
-- sum to its next-issue rate and to 1.
WITH days AS (
    -- the days holding contacts: a day the run was not asked to replace must get no row
    SELECT DISTINCT partition_date
    FROM signals.conversation_signals
    WHERE partition_date BETWEEN $start_date AND $end_date
),
contacts AS (
    SELECT *
    FROM next_issues(CAST($start_date AS DATE) - (CAST($next_issues_transitions_window_days AS INTEGER) - 1),
                     $end_date, $next_issues_window_days)
),
window_contacts AS (
    SELECT d.partition_date, c.intent AS from_intent, c.next_intent AS to_intent
    FROM days AS d
    JOIN contacts AS c
      ON c.partition_date BETWEEN d.partition_date - (CAST($next_issues_transitions_window_days AS INTEGER) - 1)
                              AND d.partition_date
),
from_totals AS (
    SELECT partition_date, from_intent, count(*) AS from_contacts, count(to_intent) AS from_next_issues
    FROM window_contacts
    GROUP BY ALL
)
SELECT
    w.partition_date,
    w.from_intent,
    w.to_intent,
    w.partition_date - (CAST($next_issues_transitions_window_days AS INTEGER) - 1) AS window_start,
    count(*) AS transitions,
    any_value(f.from_contacts) AS from_contacts,
    count(*) / any_value(f.from_contacts) AS share_of_contacts,
    count(*) / any_value(f.from_next_issues) AS share_of_next_issues
FROM window_contacts AS w
JOIN from_totals AS f USING (partition_date, from_intent)
WHERE w.to_intent IS NOT NULL
GROUP BY w.partition_date, w.from_intent, w.to_intent
