-- signals.conversation_signals: one row per conversation started on a day in [$start_date, $end_date] of a customer
-- who has not refused analytics consent (consented(), sql/setup/consent.sql).
-- Sentiment start/end are means of the first/last quarter (ceil(n/4)) of customer turns; sentiment_time_q1..q4 are
-- means over the four quarters of the customer's time (Contact Lens scores quarters of the call); the shift is
-- reliable with >= $sentiment_min_turns_reliable_shift customer turns (Genesys).
-- Sentiment events (Genesys) are customer turns outside [$sentiment_negative_threshold, $sentiment_positive_threshold].
-- Non-talk time (voice) = hold time + silences over $conversation_silence_gap_seconds s outside holds.
-- First responses are timed from the first customer turn to the first agent (bots excluded: Zendesk, Chatwoot) or
-- bot turn at or after it.
WITH conversations AS (
    SELECT c.*
    FROM raw.conversations AS c
    WHERE c.partition_date BETWEEN $start_date AND $end_date
      AND consented(c.customer_key)
),
turns AS (
    SELECT
        t.conversation_id, t.turn_index, t.speaker, t.ts, t.end_ts, t.text,
        s.compound, c.channel, c.started_at
    FROM raw.turns AS t
    JOIN conversations AS c USING (conversation_id)
    LEFT JOIN signals.turn_sentiment AS s USING (conversation_id, turn_index)
    WHERE t.partition_date BETWEEN $start_date AND $end_date
),
customer_turns AS (
    -- text cues only of customer turns, the only ones read
    SELECT
        *,
        compound < $sentiment_negative_threshold AS is_negative,
        coalesce(regexp_matches(text, $conversation_escalation_patterns), FALSE) AS asks_escalation,
        coalesce(regexp_matches(text, $conversation_effort_patterns), FALSE) AS effort_cue,
        list_distinct(list_filter(string_split_regex(lower(coalesce(text, '')), '[^a-z0-9]+'), w -> w <> ''))
            AS tokens,
        row_number() OVER (PARTITION BY conversation_id ORDER BY turn_index) AS customer_position,
        count(*) OVER (PARTITION BY conversation_id) AS customer_count,
        CASE WHEN compound > $sentiment_positive_threshold THEN 1
             WHEN compound < $sentiment_negative_threshold THEN -1
             WHEN compound IS NOT NULL THEN 0 END AS polarity,
        -- the quarter holding the turn's midpoint (its start when untimed) of the time from the conversation's start
        -- to the end of the customer's last turn, as Contact Lens divides each participant's time; the last instant
        -- belongs to the fourth quarter; none when that time is empty
        CASE WHEN customer_until > started_at THEN
            least(4, 1 + floor(4 * (epoch_us(ts - started_at) + coalesce(epoch_us(end_ts - ts), 0) / 2)
                                 / epoch_us(customer_until - started_at)))
        END AS time_quarter
    FROM (
        SELECT *, max(coalesce(end_ts, ts)) OVER (PARTITION BY conversation_id) AS customer_until
        FROM turns
        WHERE speaker = 'customer'
    )
),
streaks AS (
    -- runs of consecutive negative customer turns: islands of equal (position - negative-rank)
    SELECT conversation_id, count(*) AS streak_length
    FROM (
        SELECT conversation_id, customer_position
            - row_number() OVER (PARTITION BY conversation_id ORDER BY customer_position) AS island
        FROM customer_turns
        WHERE is_negative
    )
    GROUP BY conversation_id, island
),
repetitions AS (
    -- a customer turn that restates an earlier one: Jaccard of all word and number tokens >= threshold, both turns
    -- with 3+ tokens. Short words count: "It's order 123" shares the order number, not the request, with
    -- "Where is my order 123?"
    -- Each turn is compared with at most $conversation_repetition_lookback_turns earlier customer turns, through
    -- an equi-join on (conversation, position - lag), so the cost is linear in the turns however long a
    -- conversation is.
    SELECT conversation_id, count(DISTINCT turn_index) AS repetitions
    FROM (
        SELECT later.conversation_id, later.turn_index, len(later.tokens) AS later_size,
               len(earlier.tokens) AS earlier_size, len(list_intersect(later.tokens, earlier.tokens)) AS shared
        FROM (
            SELECT *, unnest(range(1, $conversation_repetition_lookback_turns + 1)) AS lag
            FROM customer_turns
            WHERE len(tokens) >= 3
        ) AS later
        JOIN customer_turns AS earlier
          ON earlier.conversation_id = later.conversation_id
         AND earlier.customer_position = later.customer_position - later.lag
        WHERE len(earlier.tokens) >= 3
          -- the Jaccard is at most the smaller size over the larger: skip the intersection when that falls short
          AND least(len(later.tokens), len(earlier.tokens)) / greatest(len(later.tokens), len(earlier.tokens))
              >= $conversation_repetition_min_similarity
    )
    -- tokens are distinct, so the union's size is the sum of both sizes less the intersection's
    WHERE shared / (later_size + earlier_size - shared) >= $conversation_repetition_min_similarity
    GROUP BY conversation_id
),
customer_summary AS (
    SELECT
        conversation_id,
        avg(compound ORDER BY turn_index) FILTER (WHERE customer_position <= ceil(customer_count / 4))
            AS sentiment_start,
        avg(compound ORDER BY turn_index)
            FILTER (WHERE customer_position > customer_count - ceil(customer_count / 4)) AS sentiment_end,
        min(compound) AS sentiment_min,
        avg(compound ORDER BY turn_index) AS customer_sentiment_mean,
        avg(compound ORDER BY turn_index) FILTER (WHERE time_quarter = 1) AS sentiment_time_q1,
        avg(compound ORDER BY turn_index) FILTER (WHERE time_quarter = 2) AS sentiment_time_q2,
        avg(compound ORDER BY turn_index) FILTER (WHERE time_quarter = 3) AS sentiment_time_q3,
        avg(compound ORDER BY turn_index) FILTER (WHERE time_quarter = 4) AS sentiment_time_q4,
        -- Genesys: each event's polarity weighted by its relative location (position / customer turns), summed,
        -- and normalised by tanh(0.75 x sum) (Genesys's 100 x tanh(0.75 x sum) on our [-1, 1] scale); no event is 0,
        -- no scored turn null. Integer positions are summed before the one division, so that opposite events cancel
        -- exactly.
        CASE WHEN count(polarity) > 0 THEN
            tanh(0.75 * coalesce(sum(polarity * customer_position), 0) / count(*))
        END AS sentiment_score_end_weighted,
        -- Genesys's start- and end-events: events in the first half of the customer turns and in the second
        avg(compound ORDER BY turn_index) FILTER (WHERE polarity <> 0 AND customer_position <= customer_count / 2)
            AS start_events_sentiment,
        avg(compound ORDER BY turn_index) FILTER (WHERE polarity <> 0 AND customer_position > customer_count / 2)
            AS end_events_sentiment,
        count(*) AS customer_turns,
        count(*) FILTER (WHERE asks_escalation) AS escalation_requests,
        count(*) FILTER (WHERE effort_cue) AS effort_cues,
        min(ts) AS first_customer_ts
    FROM customer_turns
    GROUP BY conversation_id
),
trends AS (
    -- Genesys's trend: (end-events' sentiment - start-events' sentiment) / 2, a half without events counting as
    -- neutral (0); only with enough customer turns to tell a start from an end. Bands are symmetric around 0.
    SELECT
        conversation_id,
        sentiment_trend,
        CASE WHEN sentiment_trend >= $conversation_sentiment_trend_strong THEN 'improving'
             WHEN sentiment_trend >= $conversation_sentiment_trend_slight THEN 'slightly_improving'
             WHEN sentiment_trend > -$conversation_sentiment_trend_slight THEN 'no_change'
             WHEN sentiment_trend > -$conversation_sentiment_trend_strong THEN 'slightly_declining'
             ELSE 'declining' END AS sentiment_trend_band
    FROM (
        SELECT conversation_id, (coalesce(end_events_sentiment, 0) - coalesce(start_events_sentiment, 0)) / 2
            AS sentiment_trend
        FROM customer_summary
        WHERE customer_turns >= $conversation_sentiment_trend_min_customer_turns
    )
),
ordered_turns AS (
    SELECT
        *,
        lag(speaker) OVER w AS previous_speaker,
        lag(end_ts) OVER w AS previous_end_ts,
        max(coalesce(end_ts, ts)) OVER (PARTITION BY conversation_id ORDER BY turn_index
                                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS spoken_until,
        -- words of a voice turn with a duration, for talk speed; a turn without words was not transcribed
        CASE WHEN channel = 'voice' AND end_ts > ts THEN len(regexp_extract_all(coalesce(text, ''), '\S+')) END
            AS spoken_words
    FROM turns
    WINDOW w AS (PARTITION BY conversation_id ORDER BY turn_index)
),
turn_summary AS (
    SELECT
        conversation_id,
        count(*) AS n_turns,
        count(*) FILTER (WHERE speaker = 'customer') AS customer_turns,
        count(*) FILTER (WHERE speaker = 'agent') AS agent_turns,
        count(*) FILTER (WHERE speaker = 'bot') AS bot_turns,
        count(*) FILTER (WHERE speaker = 'system') AS system_turns,
        avg(compound ORDER BY turn_index) FILTER (WHERE speaker = 'agent') AS agent_sentiment_mean,
        avg(compound ORDER BY turn_index) FILTER (WHERE speaker = 'bot') AS bot_sentiment_mean,
        sum(epoch_us(end_ts - ts)) FILTER (WHERE speaker = 'agent' AND end_ts IS NOT NULL) / 1e6 AS agent_talk_seconds,
        sum(epoch_us(end_ts - ts)) FILTER (WHERE speaker = 'customer' AND end_ts IS NOT NULL) / 1e6
            AS customer_talk_seconds,
        count(*) FILTER (WHERE previous_speaker IS NOT NULL AND previous_speaker <> speaker
                         AND previous_end_ts IS NOT NULL AND ts < previous_end_ts) AS interruptions,
        count(*) FILTER (WHERE speaker = 'customer' AND previous_speaker = 'agent' AND ts < previous_end_ts)
            AS customer_interruptions,
        count(*) FILTER (WHERE speaker = 'agent' AND previous_speaker = 'customer' AND ts < previous_end_ts)
            AS agent_interruptions,
        sum(spoken_words) FILTER (WHERE speaker = 'customer' AND spoken_words > 0) AS customer_spoken_words,
        sum(epoch_us(end_ts - ts)) FILTER (WHERE speaker = 'customer' AND spoken_words > 0) AS customer_speaking_us,
        sum(spoken_words) FILTER (WHERE speaker = 'agent' AND spoken_words > 0) AS agent_spoken_words,
        sum(epoch_us(end_ts - ts)) FILTER (WHERE speaker = 'agent' AND spoken_words > 0) AS agent_speaking_us,
        min(ts) FILTER (WHERE speaker = 'agent') AS first_agent_ts,
        count(*) FILTER (WHERE end_ts IS NOT NULL) AS timed_turns
    FROM ordered_turns
    GROUP BY conversation_id
),
gaps AS (
    SELECT conversation_id, spoken_until AS gap_start, ts AS gap_end
    FROM ordered_turns
    WHERE spoken_until IS NOT NULL AND epoch(ts - spoken_until) > $conversation_silence_gap_seconds
),
events AS (
    SELECT e.conversation_id, e.event_type, e.ts, e.event_index
    FROM raw.conversation_events AS e
    JOIN conversations AS c USING (conversation_id)
    WHERE e.partition_date BETWEEN $start_date AND $end_date
),
holds AS (
    -- each hold_start paired with the next hold_end; an unclosed hold runs to the conversation's end
    SELECT h.conversation_id, h.ts AS hold_start,
           coalesce((SELECT min(x.ts) FROM events AS x
                     WHERE x.conversation_id = h.conversation_id AND x.event_type = 'hold_end' AND x.ts >= h.ts),
                    c.ended_at) AS hold_end
    FROM events AS h
    JOIN conversations AS c USING (conversation_id)
    WHERE h.event_type = 'hold_start'
),
silences AS (
    -- in integer microseconds so that sums do not depend on row order; least/greatest skip NULLs in DuckDB,
    -- so gaps without a hold are filtered explicitly
    SELECT g.conversation_id,
           epoch_us(g.gap_end - g.gap_start)
           - coalesce(sum(epoch_us(least(g.gap_end, h.hold_end) - greatest(g.gap_start, h.hold_start)))
                      FILTER (WHERE h.hold_start IS NOT NULL), 0) AS silent_us
    FROM gaps AS g
    LEFT JOIN holds AS h
      ON h.conversation_id = g.conversation_id AND h.hold_start < g.gap_end AND h.hold_end > g.gap_start
    GROUP BY g.conversation_id, g.gap_start, g.gap_end
),
event_summary AS (
    SELECT
        conversation_id,
        count(*) FILTER (WHERE event_type = 'handoff_to_agent') AS handoffs,
        count(*) FILTER (WHERE event_type = 'transfer') AS transfers,
        min(ts) FILTER (WHERE event_type = 'handoff_to_agent') AS first_handoff_ts
    FROM events
    GROUP BY conversation_id
),
hold_summary AS (
    SELECT conversation_id, sum(epoch_us(hold_end - hold_start)) AS hold_us FROM holds GROUP BY conversation_id
),
first_responses AS (
    SELECT
        t.conversation_id,
        min(t.ts) AS first_response_ts,
        min(t.ts) FILTER (WHERE t.speaker = 'agent') AS first_agent_response_ts,
        min(t.ts) FILTER (WHERE t.speaker = 'bot') AS first_bot_response_ts
    FROM turns AS t
    JOIN customer_summary AS cs USING (conversation_id)
    WHERE t.speaker IN ('agent', 'bot') AND t.ts >= cs.first_customer_ts
    GROUP BY t.conversation_id
),
agent_response_clocks AS (
    -- Chatwoot starts an agent's first-response clock at the last handoff from the bot before the reply
    SELECT fr.conversation_id, max(e.ts) AS handoff_ts
    FROM first_responses AS fr
    JOIN events AS e
      ON e.conversation_id = fr.conversation_id AND e.event_type = 'handoff_to_agent'
     AND e.ts <= fr.first_agent_response_ts
    GROUP BY fr.conversation_id
)
SELECT
    c.partition_date,
    c.conversation_id,
    c.customer_key,
    c.channel,
    c.queue,
    c.intent AS labelled_intent,
    c.disposition,
    c.csat,
    c.started_at,
    c.ended_at,
    epoch(c.ended_at - c.started_at) AS duration_seconds,
    coalesce(ts.n_turns, 0) AS n_turns,
    coalesce(ts.customer_turns, 0) AS customer_turns,
    coalesce(ts.agent_turns, 0) AS agent_turns,
    coalesce(ts.bot_turns, 0) AS bot_turns,
    coalesce(ts.system_turns, 0) AS system_turns,
    cs.customer_sentiment_mean,
    ts.agent_sentiment_mean,
    ts.bot_sentiment_mean,
    cs.sentiment_start,
    cs.sentiment_end,
    cs.sentiment_end - cs.sentiment_start AS sentiment_shift,
    coalesce(ts.customer_turns, 0) >= $sentiment_min_turns_reliable_shift AS sentiment_shift_reliable,
    cs.sentiment_min,
    cs.sentiment_time_q1,
    cs.sentiment_time_q2,
    cs.sentiment_time_q3,
    cs.sentiment_time_q4,
    cs.sentiment_score_end_weighted,
    tr.sentiment_trend,
    tr.sentiment_trend_band,
    coalesce((SELECT max(streak_length) FROM streaks AS s WHERE s.conversation_id = c.conversation_id), 0)
        AS longest_negative_streak,
    coalesce(es.handoffs, 0) AS handoffs,
    coalesce(es.transfers, 0) AS transfers,
    coalesce(hs.hold_us, 0) / 1e6 AS hold_seconds,
    CASE WHEN ts.timed_turns > 0 THEN
        (coalesce(hs.hold_us, 0)
         + coalesce((SELECT sum(s.silent_us) FROM silences AS s
                     WHERE s.conversation_id = c.conversation_id
                       AND s.silent_us > $conversation_silence_gap_seconds * 1e6), 0)) / 1e6
    END AS non_talk_seconds,
    CASE WHEN ts.timed_turns > 0 AND c.ended_at > c.started_at
        THEN coalesce(ts.agent_talk_seconds, 0) / epoch(c.ended_at - c.started_at) END AS talk_ratio,
    ts.agent_talk_seconds,
    ts.customer_talk_seconds,
    coalesce(ts.interruptions, 0) AS interruptions,
    coalesce(ts.customer_interruptions, 0) AS customer_interruptions,
    coalesce(ts.agent_interruptions, 0) AS agent_interruptions,
    ts.customer_spoken_words / (ts.customer_speaking_us / 6e7) AS customer_words_per_minute,
    ts.agent_spoken_words / (ts.agent_speaking_us / 6e7) AS agent_words_per_minute,
    epoch(fr.first_response_ts - cs.first_customer_ts) AS first_response_seconds,
    epoch(fr.first_agent_response_ts - cs.first_customer_ts) AS agent_first_response_seconds,
    epoch(fr.first_agent_response_ts - greatest(cs.first_customer_ts, arc.handoff_ts))
        AS agent_first_response_after_handoff_seconds,
    epoch(fr.first_bot_response_ts - cs.first_customer_ts) AS bot_first_response_seconds,
    least(ts.first_agent_ts, es.first_handoff_ts) AS agent_joined_at,
    coalesce(cs.escalation_requests, 0) AS escalation_requests,
    coalesce(r.repetitions, 0) AS repetitions,
    coalesce(cs.effort_cues, 0) AS effort_cues
FROM conversations AS c
LEFT JOIN turn_summary AS ts USING (conversation_id)
LEFT JOIN customer_summary AS cs USING (conversation_id)
LEFT JOIN event_summary AS es USING (conversation_id)
LEFT JOIN first_responses AS fr USING (conversation_id)
LEFT JOIN agent_response_clocks AS arc USING (conversation_id)
LEFT JOIN trends AS tr USING (conversation_id)
LEFT JOIN repetitions AS r USING (conversation_id)
LEFT JOIN hold_summary AS hs USING (conversation_id)
