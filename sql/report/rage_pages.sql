-- Report friction hot spots ($start_date..$end_date): pages where sessions' first rage-click burst happened, most
-- sessions first.
-- Path segments starting with a digit (order numbers, ids) become {id} so that one page template is one row.
SELECT
    regexp_replace(first_rage_click_page, '/[0-9][^/]*', '/{id}', 'g') AS page,
    count(*) AS sessions,
    sum(rage_click_bursts) AS rage_click_bursts,
    count(*) FILTER (WHERE contact_starts > 0) AS sessions_with_contact
FROM signals.session_friction
WHERE first_rage_click_page IS NOT NULL AND partition_date BETWEEN $start_date AND $end_date
GROUP BY 1
ORDER BY sessions DESC, rage_click_bursts DESC, page
LIMIT 10
