-- Where do customers leave angrier than they came? Per channel and intent, the conversations with a reliable
-- sentiment shift (enough customer turns), the share whose customer sentiment fell, and the mean shift
-- (end - start, VADER compound); at least 10 conversations, the largest share worsened first.
SELECT
    o.channel,
    o.intent,
    count(*) AS conversations,
    count(*) FILTER (WHERE s.sentiment_shift < 0) AS worsened,
    round(count(*) FILTER (WHERE s.sentiment_shift < 0) / count(*), 3) AS worsened_share,
    round(avg(s.sentiment_shift), 3) AS sentiment_shift_mean,
    sum(s.escalation_requests) AS escalation_requests
FROM signals.conversation_signals AS s
JOIN metrics.contact_outcomes AS o USING (conversation_id)
WHERE s.sentiment_shift_reliable
GROUP BY o.channel, o.intent
HAVING count(*) >= 10
ORDER BY worsened_share DESC, sentiment_shift_mean, o.channel, o.intent;
