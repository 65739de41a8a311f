-- Report bot outcomes: the period's ($start_date..$end_date) conversations with a bot turn (signals.bot_outcomes) per
-- channel and overall (channel NULL): how many ended in each of the five outcomes, why the failed ones failed, and
-- how many had the bot repeat itself (a loop) or fall back.
SELECT
    channel,
    count(*) AS conversations,
    count(*) FILTER (WHERE outcome = 'confirmed_resolution') AS confirmed_resolution,
    count(*) FILTER (WHERE outcome = 'assumed_resolution') AS assumed_resolution,
    count(*) FILTER (WHERE outcome = 'abandoned') AS abandoned,
    count(*) FILTER (WHERE outcome = 'escalated') AS escalated,
    count(*) FILTER (WHERE outcome = 'failed') AS failed,
    count(*) FILTER (WHERE failure_reason = 'fallback') AS failed_fallback,
    count(*) FILTER (WHERE failure_reason = 'complaint') AS failed_complaint,
    count(*) FILTER (WHERE failure_reason = 'repeat_contact') AS failed_repeat_contact,
    count(*) FILTER (WHERE bot_loops > 0) AS with_loops,
    coalesce(sum(bot_loops), 0) AS bot_loops,
    count(*) FILTER (WHERE bot_fallbacks > 0) AS with_fallbacks
FROM signals.bot_outcomes
WHERE partition_date BETWEEN $start_date AND $end_date
GROUP BY GROUPING SETS ((channel), ())
ORDER BY channel IS NULL, conversations DESC, channel
