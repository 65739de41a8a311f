-- signals.journeys: one row per customer x issue whose first contact started on a day in [$start_date, $end_date].
-- A journey is a repeat chain (the chain of metrics.contact_outcomes, so journey_id = its chain_id): contacts of
-- the same customer_key and intent (labelled, else predicted, else 'unknown'), each starting after the previous
-- contact's end and within $outcomes_repeat_window_days days of it. It starts at its first contact's start
-- (partition_date is that day); pre-contact sessions are reported beside it (first_friction_at), not as its start.
-- Chains are followed $outcomes_chain_lookback_days days forward, and read as far back so that a contact whose
-- previous same-intent contact ended within R days before it is never taken for a journey start.
-- Sessions (signals.session_friction) are the customer's when they logged in or when identity stitching tied their
-- device to the customer (its customer_key, sql/setup/identity.sql). They belong to a journey when they reach into the
-- $journeys_pre_contact_window_minutes minutes before its first contact (sessions_before) or start after its
-- first contact's start and by its last contact's end (sessions_between). Pre-contact friction ("failure
-- demand"): a contact preceded by a friction session (had_friction) that started by the contact's start and
-- ended within $journeys_pre_contact_window_minutes minutes before it. Sessions carry no intent, so a session
-- can count towards two journeys of one customer that run at the same time.
WITH positioned AS (
    SELECT *,
        count(*) OVER (PARTITION BY customer_key, intent, chain_number) AS chain_length,
        lag(channel) OVER (PARTITION BY customer_key, intent, chain_number ORDER BY started_at, conversation_id)
            AS previous_channel
    FROM journey_contacts($start_date - to_days(CAST($outcomes_chain_lookback_days AS INTEGER)),
                          $end_date + to_days(CAST($outcomes_chain_lookback_days AS INTEGER)),
                          $outcomes_repeat_window_days)
),
journey_contacts AS (
    SELECT *
    FROM positioned
    WHERE CAST(journey_started_at AS DATE) BETWEEN $start_date AND $end_date
),
sessions AS (
    -- a session that started the day before the window can still reach into it (midnight); anonymous sessions and
    -- those of shared devices have no customer_key
    SELECT session_key, customer_key, session_start, session_end, had_friction, rage_click_bursts, errors, crashes
    FROM signals.session_friction
    WHERE customer_key IS NOT NULL
      AND consented(customer_key)
      AND partition_date BETWEEN CAST($start_date - to_minutes(CAST($journeys_pre_contact_window_minutes AS INTEGER))
                                      - INTERVAL 1 DAY AS DATE)
                             AND $end_date + to_days(CAST($outcomes_chain_lookback_days AS INTEGER))
),
contact_friction AS (
    SELECT conversation_id, min(session_start) AS first_friction_at
    FROM preceding_friction($start_date, $end_date + to_days(CAST($outcomes_chain_lookback_days AS INTEGER)),
                            $journeys_pre_contact_window_minutes)
    GROUP BY conversation_id
),
contact_summary AS (
    SELECT
        c.journey_id,
        any_value(c.customer_key) AS customer_key,
        any_value(c.intent) AS intent,
        min(c.started_at) AS started_at,
        count(*) AS contacts,
        to_json(list(c.conversation_id ORDER BY c.position)) AS conversation_ids,
        string_agg(c.channel, ',' ORDER BY c.position) AS channels,
        count(*) FILTER (WHERE c.channel <> c.previous_channel) AS channel_switches,
        any_value(c.channel) FILTER (WHERE c.position = 1) AS first_channel,
        any_value(c.channel) FILTER (WHERE c.position = c.chain_length) AS last_channel,
        any_value(c.started_at) FILTER (WHERE c.position = c.chain_length) AS last_contact_started_at,
        any_value(c.ended_at) FILTER (WHERE c.position = c.chain_length) AS last_contact_ended_at,
        coalesce(bool_or(c.position = c.chain_length AND c.disposition = 'resolved'), FALSE) AS resolved,
        coalesce(bool_or(c.position = 1 AND f.conversation_id IS NOT NULL), FALSE) AS pre_contact_friction,
        any_value(f.first_friction_at) FILTER (WHERE c.position = 1) AS first_friction_at,
        count(f.conversation_id) AS failure_demand_contacts,
        sum(c.escalation_requests) AS escalation_requests
    FROM journey_contacts AS c
    LEFT JOIN contact_friction AS f USING (conversation_id)
    GROUP BY c.journey_id
),
journey_sessions AS (
    SELECT
        j.journey_id,
        f.session_key,
        f.session_start <= j.started_at AS before_first_contact,
        f.had_friction, f.rage_click_bursts, f.errors, f.crashes
    FROM contact_summary AS j
    JOIN sessions AS f
      ON f.customer_key = j.customer_key
     AND ((f.session_start <= j.started_at
           AND f.session_end >= j.started_at - to_minutes(CAST($journeys_pre_contact_window_minutes AS INTEGER)))
          OR (f.session_start > j.started_at AND f.session_start <= j.last_contact_ended_at))
),
session_summary AS (
    SELECT
        journey_id,
        count(*) FILTER (WHERE before_first_contact) AS sessions_before,
        count(*) FILTER (WHERE NOT before_first_contact) AS sessions_between,
        count(*) FILTER (WHERE had_friction) AS friction_sessions,
        sum(rage_click_bursts) AS rage_click_bursts,
        sum(errors) AS errors,
        sum(crashes) AS crashes
    FROM journey_sessions
    GROUP BY journey_id
)
SELECT
    CAST(j.started_at AS DATE) AS partition_date,
    j.journey_id,
    j.customer_key,
    j.intent,
    j.started_at,
    j.first_friction_at,
    j.last_contact_started_at,
    j.last_contact_ended_at,
    j.contacts,
    j.conversation_ids,
    j.channels,
    j.first_channel,
    j.last_channel,
    j.channel_switches,
    coalesce(s.sessions_before, 0) AS sessions_before,
    coalesce(s.sessions_between, 0) AS sessions_between,
    coalesce(s.friction_sessions, 0) AS friction_sessions,
    coalesce(s.rage_click_bursts, 0) AS rage_click_bursts,
    coalesce(s.errors, 0) AS errors,
    coalesce(s.crashes, 0) AS crashes,
    j.pre_contact_friction,
    j.failure_demand_contacts,
    j.escalation_requests,
    j.resolved,
    CASE WHEN j.resolved THEN 'resolved' ELSE 'open' END AS status,
    CASE WHEN j.resolved THEN j.last_contact_ended_at END AS resolved_at,
    CASE WHEN j.resolved THEN epoch(j.last_contact_ended_at - j.started_at) END AS time_to_resolve_seconds
FROM contact_summary AS j
LEFT JOIN session_summary AS s USING (journey_id)
