-- Where does containment fail on quality? Per channel and intent, the contacts the bot contained, those that failed
-- containment-with-quality, and which part failed (a contact can fail several, so the parts can add up to more).
WITH counts AS (
    SELECT
        channel,
        intent,
        sum(contained) AS contained,
        sum(contained) - sum(contained_with_quality) AS failed_quality,
        sum(cwq_failed_repeat) AS failed_repeat,
        sum(cwq_failed_sentiment) AS failed_sentiment,
        sum(cwq_failed_csat) AS failed_csat,
        sum(cwq_failed_friction) AS failed_friction
    FROM metrics.daily_outcomes
    GROUP BY channel, intent
    HAVING sum(contained) > 0
)
SELECT
    channel,
    intent,
    contained,
    failed_quality,
    round(failed_quality / contained, 3) AS failed_share,
    failed_repeat,
    failed_sentiment,
    failed_csat,
    failed_friction,
    CASE greatest(failed_repeat, failed_sentiment, failed_csat, failed_friction)
        WHEN 0 THEN NULL
        WHEN failed_repeat THEN 'repeat'
        WHEN failed_sentiment THEN 'sentiment'
        WHEN failed_csat THEN 'csat'
        ELSE 'friction'
    END AS main_failure
FROM counts
ORDER BY failed_quality DESC, channel, intent;
