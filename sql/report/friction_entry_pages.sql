-- Report friction hot spots ($start_date..$end_date): entry pages of sessions, by how many of their sessions had
-- friction. The dead and error clicks are those of the sessions entering there (session_friction does not record
-- each click's page).
SELECT
    regexp_replace(coalesce(entry_page, '(unknown)'), '/[0-9][^/]*', '/{id}', 'g') AS page,
    count(*) AS sessions,
    count(*) FILTER (WHERE had_friction) AS sessions_with_friction,
    sum(dead_clicks) AS dead_clicks,
    sum(error_clicks) AS error_clicks,
    sum(form_errors) AS form_errors
FROM signals.session_friction
WHERE partition_date BETWEEN $start_date AND $end_date
GROUP BY 1
HAVING count(*) FILTER (WHERE had_friction) > 0 OR sum(dead_clicks) + sum(error_clicks) > 0
ORDER BY sessions_with_friction DESC, sum(dead_clicks) + sum(error_clicks) DESC, page
LIMIT 10
