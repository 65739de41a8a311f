-- Where do customers switch channels? Journeys whose contacts moved between channels, by first and last channel:
-- how many, how many contacts they took, how many were resolved and how long that took.
SELECT
    first_channel,
    last_channel,
    count(*) AS journeys,
    round(avg(contacts), 2) AS contacts_per_journey,
    round(avg(CAST(status = 'resolved' AS INTEGER)), 3) AS resolved_share,
    round(median(time_to_resolve_seconds) / 3600, 1) AS time_to_resolve_median_hours,
    count(*) FILTER (WHERE pre_contact_friction) AS journeys_after_friction
FROM signals.journeys
WHERE channel_switches > 0
GROUP BY first_channel, last_channel
ORDER BY journeys DESC, first_channel, last_channel;
