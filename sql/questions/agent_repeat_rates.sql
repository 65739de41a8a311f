-- Which agents' contacts come back? Repeat-contact rate per agent (keyed pseudonym) over every conversation the
-- agent spoke in, with its 95% Wilson interval; ranked by the interval's lower bound, so that an agent with a few
-- unlucky conversations does not top the list. Agents with fewer than 20 conversations are left out.
WITH agents AS (
    SELECT
        agent_key,
        sum(conversations) AS conversations,
        -- a day's repeat_rate is its repeat contacts / conversations: the count back, exactly
        sum(CAST(round(repeat_rate * conversations) AS BIGINT)) AS repeat_contacts,
        sum(CAST(round(fcr_rate * conversations) AS BIGINT)) AS first_contact_resolutions
    FROM metrics.agent_daily
    GROUP BY agent_key
    HAVING sum(conversations) >= 20
)
SELECT
    agent_key,
    conversations,
    repeat_contacts,
    round(repeat_contacts / conversations, 3) AS repeat_rate,
    round(wilson_low(repeat_contacts, conversations), 3) AS repeat_rate_low,
    round(wilson_high(repeat_contacts, conversations), 3) AS repeat_rate_high,
    round(first_contact_resolutions / conversations, 3) AS fcr_rate
FROM agents
ORDER BY repeat_rate_low DESC, agent_key
LIMIT 20;
