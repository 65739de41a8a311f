-- Required disclosures of the industry playbook (playbook.disclosures, docs/playbooks.md), one row per consented
-- conversation started on a day in [$start_date, $end_date] and disclosure that applies to it: the conversation's
-- channel and intent are among the disclosure's (an empty list: all) and one of its speakers took a turn in it.
-- A disclosure is said when a turn of one of its speakers matches one of its phrases; on time when that turn
-- started within within_seconds of the conversation's start (no limit when null). No playbook: no rows.
WITH rules AS (
    SELECT unnest(
        from_json(
            $playbook_disclosures,
            '[{"name": "VARCHAR", "pattern": "VARCHAR", "speakers": ["VARCHAR"], "channels": ["VARCHAR"],
               "intents": ["VARCHAR"], "within_seconds": "DOUBLE"}]'
        ),
        recursive := TRUE
    )
),

journeys AS (
    SELECT
        journey.name AS journey,
        unnest(journey.intents) AS intent
    FROM (
        SELECT unnest(from_json($playbook_journeys, '[{"name": "VARCHAR", "intents": ["VARCHAR"]}]')) AS journey
    )
),

conversation_turns AS (
    SELECT
        conversation_id,
        turn_index,
        speaker,
        ts,
        text
    FROM raw.turns
    WHERE partition_date BETWEEN $start_date AND $end_date
      AND speaker IN ('agent', 'bot')
),

speakers AS (
    SELECT
        conversation_id,
        list(DISTINCT speaker ORDER BY speaker) AS speakers
    FROM conversation_turns
    GROUP BY conversation_id
),

applicable AS (
    SELECT
        c.partition_date,
        c.conversation_id,
        c.customer_key,
        c.channel,
        c.intent,
        c.started_at,
        r.name AS disclosure,
        r.pattern,
        r.speakers,
        r.within_seconds
    FROM contacts($start_date, $end_date) AS c
    INNER JOIN speakers AS s ON c.conversation_id = s.conversation_id
    INNER JOIN rules AS r
        ON (len(r.channels) = 0 OR list_contains(r.channels, c.channel))
        AND (len(r.intents) = 0 OR list_contains(r.intents, c.intent))
        AND len(list_intersect(r.speakers, s.speakers)) > 0
),

said AS (
    SELECT
        a.conversation_id,
        a.disclosure,
        min(t.ts) AS first_said_at,
        arg_min(t.speaker, (t.ts, t.turn_index)) AS said_by,
        min(t.turn_index) AS first_turn_index
    FROM applicable AS a
    INNER JOIN conversation_turns AS t
        ON a.conversation_id = t.conversation_id
        AND list_contains(a.speakers, t.speaker)
        AND regexp_matches(coalesce(t.text, ''), a.pattern)
    GROUP BY a.conversation_id, a.disclosure
)

SELECT
    a.partition_date,
    a.conversation_id,
    a.customer_key,
    a.channel,
    a.intent,
    j.journey,
    a.disclosure,
    s.conversation_id IS NOT NULL AS said,
    s.said_by,
    s.first_turn_index,
    s.first_said_at,
    epoch(s.first_said_at - a.started_at) AS seconds_into_conversation,
    a.within_seconds,
    CASE
        WHEN s.conversation_id IS NULL THEN 'missing'
        WHEN a.within_seconds IS NOT NULL AND epoch(s.first_said_at - a.started_at) > a.within_seconds THEN 'late'
        ELSE 'said'
    END AS status
FROM applicable AS a
LEFT JOIN said AS s ON a.conversation_id = s.conversation_id AND a.disclosure = s.disclosure
LEFT JOIN journeys AS j ON a.intent = j.intent
ORDER BY a.conversation_id, a.disclosure
