-- metrics.journey_priorities: one row per day in [$start_date, $end_date] x kind x intent, the decision framework of
-- journeys to fix first, over the metrics.contact_outcomes of the $priorities_window_days days ending that day.
-- Rows of kind 'intent' are the intents; rows of kind 'emerging_topic' are the day's emerging topics
-- (signals.emerging_topics, intent = topic_id), over their contacts (signals.emerging_topic_contacts) in the window,
-- which are also counted under their own intent.
-- Per row, three components, each the mean of its inputs min-max normalised across the day's scored intents
-- ((x - min) / (max - min), 0 when every intent has the same value, clamped to [0, 1] for topics; higher = worse):
--   (1) handoffs: handoff_rate (contacts with a handoff to an agent), transfers_per_contact;
--   (2) repeatability and policy complexity: contacts (volume), repeat_rate;
--   (3) measurable outcome: cost_to_resolve_total (journeys x median cost-to-resolve), cwq_gap.
-- score = weighted mean of the components (weights $priorities_weight_handoffs, $priorities_weight_repeatability,
-- $priorities_weight_outcome); rank 1 = fix first. Rows with fewer than $priorities_min_contacts contacts in the
-- window are listed with their inputs but neither scored nor ranked; 'unknown' is ranked like any intent. Topics are
-- scored against the intents' ranges, so they never move an intent's score or rank, and are not ranked: their score
-- places them among the intents.
WITH days AS (
    -- the days holding contacts, not every calendar day of the range: a run's days need not be contiguous
    -- (an export spanning years), and a day it was not asked to replace must get no row
    SELECT DISTINCT partition_date
    FROM metrics.contact_outcomes
    WHERE partition_date BETWEEN $start_date AND $end_date
),
intent_contacts AS (
    SELECT d.partition_date, 'intent' AS kind, o.* EXCLUDE (partition_date)
    FROM days AS d
    JOIN metrics.contact_outcomes AS o
      ON o.partition_date BETWEEN d.partition_date - (CAST($priorities_window_days AS INTEGER) - 1) AND d.partition_date
    WHERE o.partition_date BETWEEN CAST($start_date AS DATE) - (CAST($priorities_window_days AS INTEGER) - 1)
                               AND $end_date
      AND consented(o.customer_key)
),
topic_contacts AS (
    -- the contacts behind each of the day's emerging topics that fall in the window, under the topic's id
    SELECT m.partition_date, 'emerging_topic' AS kind, o.* EXCLUDE (partition_date, intent), m.topic_id AS intent
    FROM signals.emerging_topic_contacts AS m
    JOIN metrics.contact_outcomes AS o USING (conversation_id)
    WHERE m.partition_date BETWEEN $start_date AND $end_date
      AND m.partition_date IN (SELECT partition_date FROM days)
      AND o.partition_date BETWEEN m.partition_date - (CAST($priorities_window_days AS INTEGER) - 1)
                               AND m.partition_date
      AND o.partition_date BETWEEN CAST($start_date AS DATE) - (CAST($priorities_window_days AS INTEGER) - 1)
                               AND $end_date
      AND consented(o.customer_key)
),
window_contacts AS (
    SELECT * FROM intent_contacts
    UNION ALL BY NAME
    SELECT * FROM topic_contacts
),
journeys AS (
    -- one row per repeat chain (journey) with a contact in the window; its cost is the whole chain's
    SELECT
        partition_date, kind, intent, chain_id,
        max(chain_status) = 'resolved' AS resolved,
        max(cost_to_resolve) AS cost_to_resolve,
        max(chain_cost_so_far) AS chain_cost
    FROM window_contacts
    GROUP BY ALL
),
journey_costs AS (
    SELECT
        partition_date, kind, intent,
        count(*) AS journeys,
        count(*) FILTER (WHERE resolved) AS journeys_resolved,
        median(cost_to_resolve) FILTER (WHERE resolved) AS cost_to_resolve_median,
        median(chain_cost) FILTER (WHERE NOT resolved) AS open_cost_so_far_median
    FROM journeys
    GROUP BY ALL
),
inputs AS (
    SELECT
        c.partition_date,
        c.kind,
        c.intent,
        count(*) AS contacts,
        count(DISTINCT c.customer_key) AS customers,
        count(DISTINCT c.channel) AS channels,
        count(*) FILTER (WHERE c.handoffs > 0) / count(*) AS handoff_rate,
        sum(c.transfers) / count(*) AS transfers_per_contact,
        count(*) FILTER (WHERE c.repeat_contact) / count(*) AS repeat_rate,
        count(*) FILTER (WHERE c.contained) / count(*) AS containment_rate,
        count(*) FILTER (WHERE c.contained_with_quality) / count(*) AS cwq_rate,
        -- float sums in a fixed order, so that a rerun gives bit-identical results
        avg(c.cost ORDER BY c.conversation_id) AS cost_per_contact,
        sum(c.cost ORDER BY c.conversation_id) AS cost_total
    FROM window_contacts AS c
    GROUP BY c.partition_date, c.kind, c.intent
),
measured AS (
    SELECT
        i.*,
        j.journeys,
        j.journeys_resolved,
        j.cost_to_resolve_median,
        -- no resolved journey in the window: the open journeys' median cost so far (a lower bound)
        j.journeys * coalesce(j.cost_to_resolve_median, j.open_cost_so_far_median) AS cost_to_resolve_total,
        CASE WHEN $priorities_cwq_target > 0 THEN greatest($priorities_cwq_target - i.cwq_rate, 0)
             ELSE i.containment_rate - i.cwq_rate END AS cwq_gap,
        i.contacts >= $priorities_min_contacts AS scored
    FROM inputs AS i
    JOIN journey_costs AS j USING (partition_date, kind, intent)
),
bounds AS (
    SELECT
        partition_date,
        min(handoff_rate) AS min_handoff, max(handoff_rate) AS max_handoff,
        min(transfers_per_contact) AS min_transfers, max(transfers_per_contact) AS max_transfers,
        min(contacts) AS min_contacts, max(contacts) AS max_contacts,
        min(repeat_rate) AS min_repeat, max(repeat_rate) AS max_repeat,
        min(cost_to_resolve_total) AS min_cost, max(cost_to_resolve_total) AS max_cost,
        min(cwq_gap) AS min_gap, max(cwq_gap) AS max_gap
    FROM measured
    WHERE scored AND kind = 'intent'
    GROUP BY partition_date
),
normalised AS (
    -- each input's position in the day's range of the scored intents (0 when they all share one value); a topic may
    -- fall outside that range, hence the clamp
    SELECT
        m.*,
        least(greatest(coalesce((m.handoff_rate - b.min_handoff) / nullif(b.max_handoff - b.min_handoff, 0), 0), 0), 1)
            AS n_handoff,
        least(greatest(coalesce(
            (m.transfers_per_contact - b.min_transfers) / nullif(b.max_transfers - b.min_transfers, 0), 0), 0), 1)
            AS n_transfers,
        least(greatest(coalesce((m.contacts - b.min_contacts) / nullif(b.max_contacts - b.min_contacts, 0), 0), 0), 1)
            AS n_contacts,
        least(greatest(coalesce((m.repeat_rate - b.min_repeat) / nullif(b.max_repeat - b.min_repeat, 0), 0), 0), 1)
            AS n_repeat,
        least(greatest(coalesce(
            (m.cost_to_resolve_total - b.min_cost) / nullif(b.max_cost - b.min_cost, 0), 0), 0), 1)
            AS n_cost,
        least(greatest(coalesce((m.cwq_gap - b.min_gap) / nullif(b.max_gap - b.min_gap, 0), 0), 0), 1) AS n_gap
    FROM measured AS m
    LEFT JOIN bounds AS b USING (partition_date)
),
components AS (
    SELECT
        * EXCLUDE (n_handoff, n_transfers, n_contacts, n_repeat, n_cost, n_gap),
        CASE WHEN scored THEN (n_handoff + n_transfers) / 2 END AS handoffs_score,
        CASE WHEN scored THEN (n_contacts + n_repeat) / 2 END AS repeatability_score,
        CASE WHEN scored THEN (n_cost + n_gap) / 2 END AS outcome_score
    FROM normalised
),
scored AS (
    SELECT
        *,
        ($priorities_weight_handoffs * handoffs_score
         + $priorities_weight_repeatability * repeatability_score
         + $priorities_weight_outcome * outcome_score)
        / nullif($priorities_weight_handoffs + $priorities_weight_repeatability + $priorities_weight_outcome, 0)
            AS score,
        CASE
            WHEN NOT scored THEN NULL
            WHEN $priorities_weight_handoffs * handoffs_score
                     >= greatest($priorities_weight_repeatability * repeatability_score,
                                 $priorities_weight_outcome * outcome_score) THEN 'handoffs'
            WHEN $priorities_weight_repeatability * repeatability_score
                     >= $priorities_weight_outcome * outcome_score THEN 'repeatability'
            ELSE 'outcome'
        END AS main_driver
    FROM components
)
SELECT
    s.partition_date,
    s.intent,
    s.kind,
    t.label AS topic_label,
    t.size AS topic_size,
    t.growth AS topic_growth,
    s.partition_date - (CAST($priorities_window_days AS INTEGER) - 1) AS window_start,
    contacts,
    customers,
    journeys,
    journeys_resolved,
    channels,
    handoff_rate,
    transfers_per_contact,
    repeat_rate,
    containment_rate,
    cwq_rate,
    cwq_gap,
    cost_per_contact,
    cost_total,
    cost_to_resolve_median,
    cost_to_resolve_total,
    scored,
    handoffs_score,
    repeatability_score,
    outcome_score,
    score,
    main_driver,
    CASE WHEN scored AND s.kind = 'intent' THEN
        row_number() OVER (PARTITION BY s.partition_date, s.kind, scored
                           ORDER BY score DESC, cost_to_resolve_total DESC NULLS LAST, contacts DESC, s.intent)
    END AS rank
FROM scored AS s
LEFT JOIN signals.emerging_topics AS t
  ON s.kind = 'emerging_topic' AND t.partition_date = s.partition_date AND t.topic_id = s.intent
