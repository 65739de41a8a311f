-- Report next issues: the contacts with a known reason started in $start_date..$end_date (metrics.next_issues) per
-- intent and overall (intent NULL), and how many were followed by a next issue: the same customer contacting us about
-- another reason within next_issues.window_days days. The caller passes a period whose contacts have all had that
-- long to show one.
SELECT
    intent,
    count(DISTINCT partition_date) AS days,
    sum(contacts) AS contacts,
    sum(next_issue_contacts) AS next_issue_contacts,
    max(window_days) AS window_days
FROM metrics.next_issues
WHERE partition_date BETWEEN $start_date AND $end_date AND intent <> 'unknown'
GROUP BY GROUPING SETS ((intent), ())
HAVING sum(contacts) > 0
ORDER BY intent IS NULL, next_issue_contacts DESC, contacts DESC, intent
