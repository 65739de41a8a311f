-- signals.friction_alerts: one row per alert raised at a moment (alert_at) on a day in [$start_date, $end_date];
-- alert_id = md5(rule || ':' || subject_id), so an alert is raised once per rule and subject. Rules:
--   sentiment_drop_with_escalation (conversation): an open conversation (disposition not 'resolved') whose
--     customer sentiment shift is <= $alerts_sentiment_drop with >= $alerts_min_escalation_requests escalation
--     requests. alert_at = the customer turn at which both first held (shift of the turns so far, start and end
--     quarters as in signals.conversation_signals). High when the shift is reliable, else medium.
--   rage_then_help (session): the session's first rage burst (signals.session_friction) is on a page matching
--     $alerts_rage_then_help_page_regex and a help_view follows within $alerts_rage_then_help_minutes minutes.
--     alert_at = that help view. High unless the session has a purchase after it (medium). customer_key is the
--     session's, stitched through its device when it was logged out (signals.session_friction).
--   repeat_contact_open_journey (journey): a repeat chain (same customer and intent, each contact within
--     $outcomes_repeat_window_days days of the previous end, as in signals.journeys) reaches
--     $alerts_repeat_min_contacts contacts and is still open: alert_at = the end of the first contact at that
--     position or later whose disposition is not 'resolved'. High at >= $alerts_repeat_high_contacts contacts.
--   friction_before_contact (conversation): an open conversation whose customer had a friction session ending
--     within $journeys_pre_contact_window_minutes minutes before it started (failure demand). alert_at = the
--     contact's start. High when that session's friction score is >= $alerts_high_friction_score.
-- Conversations and chains are read $outcomes_chain_lookback_days days back (long conversations, chain starts).
-- held_out: the alert's journey (a session alert: the alert itself) is in the hold-out that gets no action, when
--   the first 32 bits of md5($interventions_holdout_salt || ':' || journey_id, else alert_id), read as a number,
--   are below $interventions_holdout_share of 2^32: stable across runs and machines (cx_signals.interventions).
WITH chained AS (
    SELECT *,
        coalesce(disposition <> 'resolved', TRUE) AS is_open,
        string_agg(channel, ',' ORDER BY started_at, conversation_id)
            OVER (PARTITION BY customer_key, intent, chain_number ORDER BY started_at, conversation_id)
            AS channels_so_far
    FROM journey_contacts($start_date - to_days(CAST($outcomes_chain_lookback_days AS INTEGER)), $end_date,
                          $outcomes_repeat_window_days)
),

-- sentiment_drop_with_escalation
drop_candidates AS (
    SELECT *
    FROM chained
    WHERE is_open
      AND sentiment_shift <= $alerts_sentiment_drop
      AND escalation_requests >= $alerts_min_escalation_requests
),
candidate_turns AS (
    SELECT
        t.conversation_id, t.ts, s.compound,
        coalesce(regexp_matches(t.text, $conversation_escalation_patterns), FALSE) AS asks_escalation,
        row_number() OVER (PARTITION BY t.conversation_id ORDER BY t.turn_index) AS k
    FROM raw.turns AS t
    JOIN drop_candidates AS c USING (conversation_id)
    LEFT JOIN signals.turn_sentiment AS s USING (conversation_id, turn_index)
    WHERE t.partition_date BETWEEN $start_date - to_days(CAST($outcomes_chain_lookback_days AS INTEGER)) AND $end_date
      AND t.speaker = 'customer'
),
turn_prefixes AS (
    -- for each customer turn k: the shift over turns 1..k and the escalation requests so far
    SELECT
        later.conversation_id, later.k, later.ts,
        avg(earlier.compound ORDER BY earlier.k) FILTER (WHERE earlier.k <= ceil(later.k / 4)) AS start_so_far,
        avg(earlier.compound ORDER BY earlier.k) FILTER (WHERE earlier.k > later.k - ceil(later.k / 4))
            AS end_so_far,
        count(*) FILTER (WHERE earlier.asks_escalation) AS escalations_so_far
    FROM candidate_turns AS later
    JOIN candidate_turns AS earlier ON earlier.conversation_id = later.conversation_id AND earlier.k <= later.k
    GROUP BY later.conversation_id, later.k, later.ts
),
drop_crossings AS (
    SELECT conversation_id, arg_min(ts, k) AS crossed_at, min(k) AS crossed_at_turn
    FROM turn_prefixes
    WHERE end_so_far - start_so_far <= $alerts_sentiment_drop
      AND escalations_so_far >= $alerts_min_escalation_requests
    GROUP BY conversation_id
),
drop_alerts AS (
    SELECT
        'sentiment_drop_with_escalation' AS rule,
        CASE WHEN c.sentiment_shift_reliable THEN 'high' ELSE 'medium' END AS severity,
        'conversation' AS subject_type,
        c.conversation_id AS subject_id,
        c.customer_key,
        c.journey_id,
        coalesce(x.crossed_at, c.ended_at) AS alert_at,
        c.sentiment_shift AS value,
        CAST($alerts_sentiment_drop AS DOUBLE) AS threshold,
        printf('customer sentiment fell from %.2f to %.2f (shift %.2f <= %.2f) with %d escalation request(s) '
               || 'in %s conversation %s on %s%s; disposition %s',
               c.sentiment_start, c.sentiment_end, c.sentiment_shift, CAST($alerts_sentiment_drop AS DOUBLE),
               c.escalation_requests, c.channel, c.conversation_id, c.intent,
               CASE WHEN x.crossed_at_turn IS NOT NULL THEN printf(' (crossed at customer turn %d of %d)',
                                                                   x.crossed_at_turn, c.customer_turns)
                    ELSE '' END,
               coalesce(c.disposition, 'not set')) AS reason
    FROM drop_candidates AS c
    LEFT JOIN drop_crossings AS x USING (conversation_id)
),

-- rage_then_help
rage_sessions AS (
    SELECT *
    FROM signals.session_friction
    WHERE partition_date BETWEEN $start_date - INTERVAL 1 DAY AND $end_date
      AND first_rage_click_at IS NOT NULL
      AND regexp_matches(first_rage_click_page, $alerts_rage_then_help_page_regex)
      AND session_key NOT IN (SELECT id FROM main.refused_records WHERE id_column = 'session_key')
),
help_and_purchase_events AS (
    SELECT session_id, anonymous_key, event_type, ts, page
    FROM raw.events
    WHERE partition_date BETWEEN $start_date - INTERVAL 1 DAY AND $end_date + INTERVAL 1 DAY
      AND event_type IN ('help_view', 'purchase')
),
session_events AS (
    -- events with a session id belong to 'sid:' || session_id; the others to the inactivity session of their
    -- anonymous id that spans them
    SELECT f.session_key, e.event_type, e.ts, e.page
    FROM rage_sessions AS f
    JOIN help_and_purchase_events AS e ON e.session_id = f.session_id
    UNION ALL
    SELECT f.session_key, e.event_type, e.ts, e.page
    FROM rage_sessions AS f
    JOIN help_and_purchase_events AS e
      ON e.session_id IS NULL AND f.session_id IS NULL AND e.anonymous_key = f.anonymous_key
     AND e.ts BETWEEN f.session_start AND f.session_end
),
help_after_rage AS (
    SELECT f.session_key, min(e.ts) AS help_at, arg_min(e.page, e.ts) AS help_page
    FROM rage_sessions AS f
    JOIN session_events AS e USING (session_key)
    WHERE e.event_type = 'help_view'
      AND e.ts >= f.first_rage_click_at
      AND e.ts <= f.first_rage_click_at + to_minutes(CAST($alerts_rage_then_help_minutes AS INTEGER))
    GROUP BY f.session_key
),
rage_alerts AS (
    SELECT
        'rage_then_help' AS rule,
        CASE WHEN EXISTS (SELECT 1 FROM session_events AS p
                          WHERE p.session_key = f.session_key AND p.event_type = 'purchase' AND p.ts > h.help_at)
             THEN 'medium' ELSE 'high' END AS severity,
        'session' AS subject_type,
        f.session_key AS subject_id,
        f.customer_key,
        CAST(NULL AS VARCHAR) AS journey_id,
        h.help_at AS alert_at,
        epoch(h.help_at - f.first_rage_click_at) / 60.0 AS value,
        CAST($alerts_rage_then_help_minutes AS DOUBLE) AS threshold,
        printf('%d rage click burst(s) starting on %s at %s, then a help view%s %.1f min later (<= %s min)',
               f.rage_click_bursts, f.first_rage_click_page, strftime(f.first_rage_click_at, '%H:%M:%S'),
               coalesce(' of ' || h.help_page, ''), epoch(h.help_at - f.first_rage_click_at) / 60.0,
               CAST($alerts_rage_then_help_minutes AS VARCHAR)) AS reason
    FROM rage_sessions AS f
    JOIN help_after_rage AS h USING (session_key)
),

-- repeat_contact_open_journey
repeat_triggers AS (
    SELECT journey_id, arg_min(conversation_id, position) AS conversation_id
    FROM chained
    WHERE position >= $alerts_repeat_min_contacts AND is_open
    GROUP BY journey_id
),
repeat_alerts AS (
    SELECT
        'repeat_contact_open_journey' AS rule,
        CASE WHEN c.position >= $alerts_repeat_high_contacts THEN 'high' ELSE 'medium' END AS severity,
        'journey' AS subject_type,
        c.journey_id AS subject_id,
        c.customer_key,
        c.journey_id,
        c.ended_at AS alert_at,
        CAST(c.position AS DOUBLE) AS value,
        CAST($alerts_repeat_min_contacts AS DOUBLE) AS threshold,
        printf('contact %d (>= %d) on %s in %.1f days (channels %s) ended %s; journey still open',
               c.position, CAST($alerts_repeat_min_contacts AS INTEGER), c.intent,
               epoch(c.ended_at - c.journey_started_at) / 86400.0, c.channels_so_far,
               coalesce(c.disposition, 'without a disposition')) AS reason
    FROM repeat_triggers AS r
    JOIN chained AS c USING (journey_id, conversation_id)
),

-- friction_before_contact
pre_contact_sessions AS (
    SELECT
        c.conversation_id,
        arg_max(f.session_key, f.session_end) AS session_key,
        arg_max(f.friction_score, f.session_end) AS friction_score,
        arg_max(epoch(c.started_at - f.session_end) / 60.0, f.session_end) AS minutes_before,
        count(*) AS friction_sessions
    FROM chained AS c
    JOIN preceding_friction($start_date, $end_date, $journeys_pre_contact_window_minutes) AS f USING (conversation_id)
    WHERE c.is_open
    GROUP BY c.conversation_id
),
friction_alerts AS (
    SELECT
        'friction_before_contact' AS rule,
        CASE WHEN p.friction_score >= $alerts_high_friction_score THEN 'high' ELSE 'medium' END AS severity,
        'conversation' AS subject_type,
        c.conversation_id AS subject_id,
        c.customer_key,
        c.journey_id,
        c.started_at AS alert_at,
        greatest(p.minutes_before, 0.0) AS value,
        CAST($journeys_pre_contact_window_minutes AS DOUBLE) AS threshold,
        printf('%s contact on %s after %d friction session(s); latest %s (friction score %.1f) was active %.0f min '
               || 'before (<= %s min)',
               c.channel, c.intent, p.friction_sessions, p.session_key, p.friction_score,
               greatest(p.minutes_before, 0.0), CAST($journeys_pre_contact_window_minutes AS VARCHAR)) AS reason
    FROM pre_contact_sessions AS p
    JOIN chained AS c USING (conversation_id)
),
alerts AS (
    SELECT * FROM drop_alerts
    UNION ALL BY NAME SELECT * FROM rage_alerts
    UNION ALL BY NAME SELECT * FROM repeat_alerts
    UNION ALL BY NAME SELECT * FROM friction_alerts
)
SELECT
    CAST(alert_at AS DATE) AS partition_date,
    md5(rule || ':' || subject_id) AS alert_id,
    rule,
    severity,
    subject_type,
    subject_id,
    customer_key,
    journey_id,
    alert_at,
    value,
    threshold,
    reason,
    CAST('0x' || substr(md5($interventions_holdout_salt || ':' || coalesce(journey_id, md5(rule || ':' || subject_id))),
                        1, 8) AS UBIGINT) < $interventions_holdout_share * 4294967296 AS held_out
FROM alerts
WHERE CAST(alert_at AS DATE) BETWEEN $start_date AND $end_date
