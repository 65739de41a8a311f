-- Report defects: each defect's period ($start_date..$end_date) from metrics.defects - contacts it preceded, sessions
-- that touched it and contacts per 1,000 of them, and its latest trend and app version - most contacts first.
SELECT
    defect_type,
    -- a page's path segments starting with a digit (order numbers, ids) become {id}, as in the friction tables
    if(defect_type = 'page', regexp_replace(defect, '/[0-9][^/]*', '/{id}', 'g'), defect) AS defect,
    sum(contacts_preceded) AS contacts_preceded,
    sum(sessions_touched) AS sessions_touched,
    1000 * sum(contacts_preceded) / nullif(sum(sessions_touched), 0) AS contacts_per_1000_sessions,
    arg_max(trend, partition_date) AS trend,
    arg_max(top_app_version, partition_date) AS top_app_version,
    arg_max(top_app_version_share, partition_date) AS top_app_version_share
FROM metrics.defects
WHERE partition_date BETWEEN $start_date AND $end_date
GROUP BY ALL
HAVING sum(contacts_preceded) > 0
ORDER BY contacts_preceded DESC, defect_type, defect
