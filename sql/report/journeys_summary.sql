-- Report friction hot spots ($start_date..$end_date): journeys (customer x issue across channels) and how many
-- began with digital friction just before the first contact (failure demand), from signals.journeys.
SELECT
    count(*) AS journeys,
    count(*) FILTER (WHERE pre_contact_friction) AS journeys_with_pre_contact_friction,
    coalesce(sum(contacts), 0) AS contacts,
    coalesce(sum(failure_demand_contacts), 0) AS failure_demand_contacts,
    count(*) FILTER (WHERE status = 'open') AS open_journeys,
    count(*) FILTER (WHERE channel_switches > 0) AS journeys_switching_channel
FROM signals.journeys
WHERE partition_date BETWEEN $start_date AND $end_date
