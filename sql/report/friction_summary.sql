-- Report friction hot spots ($start_date..$end_date): session counts and friction parts from
-- signals.session_friction.
SELECT
    count(*) AS sessions,
    count(*) FILTER (WHERE had_friction) AS sessions_with_friction,
    count(*) FILTER (WHERE rage_click_bursts > 0) AS sessions_with_rage,
    coalesce(sum(rage_click_bursts), 0) AS rage_click_bursts,
    coalesce(sum(dead_clicks), 0) AS dead_clicks,
    coalesce(sum(error_clicks), 0) AS error_clicks,
    coalesce(sum(form_errors), 0) AS form_errors,
    coalesce(sum(crashes), 0) AS crashes,
    count(*) FILTER (WHERE had_friction AND contact_starts > 0) AS friction_sessions_with_contact
FROM signals.session_friction
WHERE partition_date BETWEEN $start_date AND $end_date
