"""Journey priorities, agent experience and outcome anomalies (sql/metrics/journey_priorities.sql,
agent_daily.sql, outcome_anomalies.sql) on hand-made metric rows."""

from datetime import date, datetime, timedelta
from statistics import median

import pytest

from cx_signals.config import load_config
from tests.conftest import insert, run_query, ts

DAY = date(2026, 10, 28)  # priorities window (28 days): 2026-10-01 .. 2026-10-28


def outcome(
    cid,
    day=DAY,
    intent="billing",
    channel="chat",
    customer=None,
    contained=False,
    cwq=False,
    handoffs=0,
    transfers=0,
    repeat=False,
    cost=1.0,
    chain_id=None,
    chain_cost=None,
    resolved=True,
    resolves_chain=True,
    csat=None,
    handle_seconds=600.0,
):
    """A metrics.contact_outcomes row (only the columns the queries under test read are meaningful)."""
    started = datetime(day.year, day.month, day.day, 10)
    chain_cost = cost if chain_cost is None else chain_cost
    return {
        "partition_date": day,
        "conversation_id": cid,
        "customer_key": customer or f"k_{cid}",
        "channel": channel,
        "intent": intent,
        "intent_source": "label",
        "started_at": started,
        "ended_at": started + timedelta(seconds=handle_seconds),
        "disposition": "resolved" if resolved else "unresolved",
        "csat": csat,
        "contained": contained,
        "escalated": handoffs > 0,
        "abandoned": False,
        "repeat_contact": repeat,
        "fcr": not repeat,
        "contained_with_quality": cwq,
        "handoffs": handoffs,
        "transfers": transfers,
        "handle_time_seconds": handle_seconds,
        "cost": cost,
        "chain_id": chain_id or cid,
        "chain_status": "resolved" if resolved else "open",
        "resolves_chain": resolves_chain,
        "cost_to_resolve": chain_cost if resolved else None,
        "chain_cost_so_far": chain_cost,
    }


# ---------------------------------------------------------------------------------------------------- priorities


def priorities_fixture():
    rows = []
    # billing: 20 one-contact journeys at 1.0, no handoffs or repeats, 10 contained of which 9 with quality
    for i in range(20):
        rows.append(outcome(f"b{i}", DAY - timedelta(days=i), "billing", contained=i < 10, cwq=i < 9, cost=1.0))
    # account: 25 one-contact journeys at 2.0, 10 handoffs, 5 transfers, 5 contained all with quality
    for i in range(25):
        rows.append(
            outcome(
                f"a{i}",
                DAY - timedelta(days=i),
                "account",
                contained=i >= 20,
                cwq=i >= 20,
                handoffs=int(i < 10),
                transfers=int(i < 5),
                cost=2.0,
            )
        )
    # delivery: 15 journeys of two contacts at 5.0 each (cost-to-resolve 10.0), the first repeated; 6 contained
    # without quality, the other 24 handed off, 12 with a transfer
    for j in range(15):
        day = DAY - timedelta(days=j)
        for k in range(2):
            i = 2 * j + k
            rows.append(
                outcome(
                    f"d{i}",
                    day,
                    "delivery",
                    customer=f"kd{j}",
                    channel="voice" if k else "chat",
                    contained=i < 6,
                    handoffs=int(i >= 6),
                    transfers=int(i >= 18),
                    repeat=k == 0,
                    cost=5.0,
                    chain_id=f"d{2 * j}",
                    chain_cost=10.0,
                    resolves_chain=k == 1,
                )
            )
    rows.append(outcome("d_old", DAY - timedelta(days=28), "delivery", handoffs=1, cost=100.0))  # outside the window
    # tiny: 3 contacts of open journeys (cost so far 4.0): listed, not ranked
    for i in range(3):
        rows.append(outcome(f"t{i}", DAY, "tiny", handoffs=1, cost=4.0, resolved=False, resolves_chain=False))
    return rows


def test_priorities_rank_the_worst_journey_first_with_its_inputs(con):
    insert(con, "metrics.contact_outcomes", priorities_fixture())
    rows = {r["intent"]: r for r in run_query(con, "metrics.journey_priorities", "metrics/journey_priorities", [DAY])}
    assert set(rows) == {"billing", "account", "delivery", "tiny"}

    delivery = rows["delivery"]
    assert delivery["window_start"] == date(2026, 10, 1)
    assert (delivery["contacts"], delivery["customers"], delivery["journeys"], delivery["channels"]) == (30, 15, 15, 2)
    assert delivery["handoff_rate"] == pytest.approx(0.8)
    assert delivery["transfers_per_contact"] == pytest.approx(0.4)
    assert delivery["repeat_rate"] == pytest.approx(0.5)
    assert (delivery["containment_rate"], delivery["cwq_rate"]) == (pytest.approx(0.2), 0.0)
    assert delivery["cwq_gap"] == pytest.approx(0.2)
    assert delivery["cost_per_contact"] == pytest.approx(5.0) and delivery["cost_total"] == pytest.approx(150.0)
    assert delivery["cost_to_resolve_median"] == pytest.approx(10.0)
    assert delivery["cost_to_resolve_total"] == pytest.approx(150.0)  # 15 journeys x 10.0
    # worst on every input: 1 on every component, ranked first
    assert delivery["handoffs_score"] == delivery["repeatability_score"] == delivery["outcome_score"] == 1.0
    assert (delivery["score"], delivery["rank"]) == (pytest.approx(1.0), 1)

    account, billing = rows["account"], rows["billing"]
    assert account["cwq_gap"] == 0.0 and billing["cwq_gap"] == pytest.approx(0.05)
    # min-max across billing, account, delivery: handoff rate 0 / 0.4 / 0.8, transfers 0 / 0.2 / 0.4
    assert account["handoffs_score"] == pytest.approx(0.5) and billing["handoffs_score"] == 0.0
    # contacts 20 / 25 / 30, repeat rate 0 / 0 / 0.5
    assert account["repeatability_score"] == pytest.approx(0.25)
    # cost-to-resolve totals 20 / 50 / 150, CwQ gap 0.05 / 0 / 0.2
    assert account["outcome_score"] == pytest.approx((30 / 130 + 0) / 2)
    assert billing["outcome_score"] == pytest.approx((0 + 0.25) / 2)
    assert account["score"] == pytest.approx((0.5 + 0.25 + 15 / 130) / 3)
    assert (account["rank"], billing["rank"]) == (2, 3)
    assert account["main_driver"] == "handoffs" and billing["main_driver"] == "outcome"

    tiny = rows["tiny"]
    assert not tiny["scored"] and tiny["rank"] is None and tiny["score"] is None
    assert tiny["cost_to_resolve_median"] is None
    assert tiny["cost_to_resolve_total"] == pytest.approx(12.0)  # no resolved journey: 3 x open cost so far


def test_priority_weights_come_from_config(con):
    insert(con, "metrics.contact_outcomes", priorities_fixture())
    config = load_config().merged(
        {"priorities": {"weight_handoffs": 0.0, "weight_repeatability": 0.0, "weight_outcome": 1.0, "min_contacts": 1}}
    )
    rows = {
        r["intent"]: r
        for r in run_query(con, "metrics.journey_priorities", "metrics/journey_priorities", [DAY], config)
    }
    assert rows["tiny"]["scored"] and rows["tiny"]["rank"] is not None
    assert all(r["score"] == pytest.approx(r["outcome_score"]) for r in rows.values())


# --------------------------------------------------------------------------------------------------- agent_daily


def turn(cid, index, speaker, at, text="ok", agent=None, day=DAY):
    return {
        "partition_date": day,
        "conversation_id": cid,
        "turn_index": index,
        "turn_id": f"{cid}-{index}",
        "speaker": speaker,
        "agent_key": agent,
        "ts": ts(f"{day} {at}"),
        "text": text,
        "pii_redactions": 0,
    }


def signals(cid, shift, reliable, customer):
    return {
        "partition_date": DAY,
        "conversation_id": cid,
        "customer_key": customer,
        "channel": "chat",
        "started_at": ts(f"{DAY} 10:00:00"),
        "ended_at": ts(f"{DAY} 10:10:00"),
        "duration_seconds": 600.0,
        "sentiment_shift": shift,
        "sentiment_shift_reliable": reliable,
    }


def test_agent_attribution_with_a_transfer_between_two_agents(con):
    c1 = [
        turn("c1", 0, "customer", "10:00:00", "my order is late"),
        turn("c1", 1, "bot", "10:00:10"),
        turn("c1", 2, "customer", "10:00:20", "I want to talk to a human"),  # bot phase: no agent's
        turn("c1", 3, "agent", "10:01:00", "hello", agent="agent_a"),
        turn("c1", 4, "customer", "10:02:00", "it is still not here"),
        turn("c1", 5, "agent", "10:03:00", "let me transfer you", agent="agent_a"),
        turn("c1", 6, "agent", "10:04:00", "hi, I can help", agent="agent_b"),
        turn("c1", 7, "customer", "10:05:00", "I want your manager"),
        turn("c1", 8, "agent", "10:06:00", "refund issued", agent="agent_b"),
    ]
    c2 = [
        turn("c2", 0, "customer", "10:00:00", "hello"),
        turn("c2", 1, "agent", "10:01:00", "hi", agent="agent_a"),
    ]
    insert(con, "raw.turns", c1 + c2)
    insert(
        con,
        "raw.conversation_events",
        [
            {
                "partition_date": DAY,
                "conversation_id": "c1",
                "event_index": 0,
                "event_type": "handoff_to_agent",
                "ts": ts(f"{DAY} 10:00:30"),
            },
            {
                "partition_date": DAY,
                "conversation_id": "c1",
                "event_index": 1,
                "event_type": "transfer",
                "ts": ts(f"{DAY} 10:03:30"),
                "agent_key": "agent_b",
            },
        ],
    )
    insert(
        con,
        "metrics.contact_outcomes",
        [
            outcome("c1", handoffs=1, transfers=1, csat=2, handle_seconds=600.0),  # ends 10:10
            outcome("c2", repeat=True, csat=4, handle_seconds=300.0),  # ends 10:05
        ],
    )
    insert(con, "signals.conversation_signals", [signals("c1", 0.5, True, "k_c1"), signals("c2", -0.2, False, "k_c2")])
    rows = {r["agent_key"]: r for r in run_query(con, "metrics.agent_daily", "metrics/agent_daily", [DAY])}
    assert set(rows) == {"agent_a", "agent_b"}
    a, b = rows["agent_a"], rows["agent_b"]
    # c1 counts for both agents, each conversation counts once as the last agent's
    assert (a["conversations"], a["conversations_as_last_agent"], a["agent_turns"]) == (2, 1, 3)
    assert (b["conversations"], b["conversations_as_last_agent"], b["agent_turns"]) == (1, 1, 2)
    # a holds c1 10:01-10:04 (180 s) and c2 10:01-10:05 (240 s); b holds c1 10:04-10:10
    assert a["handle_time_median_seconds"] == pytest.approx(210.0) and a["handle_time_mean_seconds"] == 210.0
    assert a["handle_time_total_seconds"] == pytest.approx(420.0)
    assert b["handle_time_median_seconds"] == pytest.approx(360.0)
    # the transfer happened while a held c1; the manager request while b did; the bot-phase request is no one's
    assert (a["transfers"], b["transfers"]) == (1, 0)
    assert (a["escalation_requests"], b["escalation_requests"]) == (0, 1)
    # conversation outcomes count for every agent who spoke; only reliable sentiment shifts count
    assert (a["sentiment_lift_mean"], a["sentiment_lift_conversations"]) == (pytest.approx(0.5), 1)
    assert b["sentiment_lift_mean"] == pytest.approx(0.5)
    assert (a["repeat_rate"], a["fcr_rate"], a["csat_mean"], a["surveyed"]) == (0.5, 0.5, 3.0, 2)
    assert (b["repeat_rate"], b["fcr_rate"], b["csat_mean"], b["surveyed"]) == (0.0, 1.0, 2.0, 1)


def test_agent_handle_time_on_written_channels_counts_replies(con):
    # two email replies a day apart: costs.written_reply_minutes per reply, not the elapsed day
    insert(
        con,
        "raw.turns",
        [
            turn("e1", 0, "customer", "09:00:00", "where is my refund"),
            turn("e1", 1, "agent", "10:00:00", "looking into it", agent="agent_e"),
            turn("e1", 2, "customer", "18:00:00", "any news"),
            turn("e1", 3, "agent", "23:00:00", "refund sent", agent="agent_e"),
        ],
    )
    insert(con, "metrics.contact_outcomes", [outcome("e1", channel="email", handle_seconds=86400.0)])
    (row,) = run_query(con, "metrics.agent_daily", "metrics/agent_daily", [DAY])
    per_reply = load_config()["costs"]["written_reply_minutes"]["email"]
    assert row["handle_time_median_seconds"] == pytest.approx(2 * per_reply * 60)
    assert row["sentiment_lift_mean"] is None and row["sentiment_lift_conversations"] == 0


def test_agent_daily_excludes_customers_without_consent(con):
    insert(
        con,
        "raw.conversations",
        [
            {
                "partition_date": DAY,
                "conversation_id": "c9",
                "customer_id": "x",
                "customer_key": "k9",
                "channel": "chat",
                "started_at": ts(f"{DAY} 10:00:00"),
                "ended_at": ts(f"{DAY} 10:05:00"),
                "consent_analytics": False,
            }
        ],
    )
    insert(
        con,
        "raw.turns",
        [turn("c9", 0, "customer", "10:00:00", "hi"), turn("c9", 1, "agent", "10:01:00", "hello", agent="agent_c")],
    )
    # metrics.contact_outcomes never holds a non-consented conversation, so the agent gets no row
    assert run_query(con, "metrics.agent_daily", "metrics/agent_daily", [DAY]) == []


# ----------------------------------------------------------------------------------------------------- anomalies

BASE = date(2026, 10, 1)
CHAT_CONTAINED = [30, 32, 29, 31, 30, 28, 33, 30, 31, 29, 30, 32, 30, 31]  # of 60 chat contacts a day
VOICE_CONTAINED = [20, 19, 21, 20, 22, 20, 19, 21, 20, 20, 18, 21, 20, 20]  # of 40 voice contacts a day


def daily(day, channel, intent, contacts, contained, cwq=None):
    return {
        "partition_date": day,
        "channel": channel,
        "intent": intent,
        "contacts": contacts,
        "contained": contained,
        "contained_with_quality": max(contained - 5, 0) if cwq is None else cwq,
    }


def history(days=14):
    """`days` ordinary days ending the day before BASE + 14: containment about 0.5 in both channels."""
    rows = []
    for i in range(14 - days, 14):
        day = BASE + timedelta(days=i)
        rows += [
            daily(day, "chat", "billing", 60, CHAT_CONTAINED[i]),
            daily(day, "voice", "delivery", 40, VOICE_CONTAINED[i]),
        ]
    return rows


def anomalies(con, rows, days):
    insert(con, "metrics.daily_outcomes", rows)
    result = run_query(con, "metrics.outcome_anomalies", "metrics/outcome_anomalies", days)
    return {(r["partition_date"], r["channel"], r["metric"]): r for r in result}


def test_anomaly_fires_on_a_planted_drop_in_containment_and_not_on_a_normal_day(con):
    drop, normal = BASE + timedelta(days=14), BASE + timedelta(days=15)
    rows = [
        *history(),
        daily(drop, "chat", "billing", 60, 10),
        daily(drop, "voice", "delivery", 40, 4),
        daily(normal, "chat", "billing", 60, 30),
        daily(normal, "voice", "delivery", 40, 19),
    ]
    result = anomalies(con, rows, [drop, normal])
    dropped = result[(drop, "all", "containment_rate")]
    assert dropped["value"] == pytest.approx(0.14)  # 14 / 100 from summed counts, not the mean of 10/60 and 4/40
    assert (dropped["sample_size"], dropped["contacts"], dropped["baseline_days"]) == (100, 100, 14)
    baseline = median((c + v) / 100 for c, v in zip(CHAT_CONTAINED, VOICE_CONTAINED, strict=True))
    assert dropped["baseline"] == pytest.approx(baseline)  # median of the 14 previous daily rates (0.51)
    assert dropped["judged"] and dropped["is_anomaly"] and dropped["direction"] == "down"
    assert dropped["move"] == pytest.approx(0.14 - baseline)
    assert dropped["move_pct"] == pytest.approx(100 * (0.14 - baseline) / baseline)
    assert dropped["value"] < dropped["lower_bound"] < dropped["baseline"] < dropped["upper_bound"]
    assert dropped["robust_z"] < -3.5
    assert result[(drop, "chat", "containment_rate")]["is_anomaly"]
    assert result[(drop, "voice", "containment_rate")]["is_anomaly"]

    ordinary = result[(normal, "all", "containment_rate")]
    assert ordinary["value"] == pytest.approx(0.49)
    assert ordinary["judged"] and not ordinary["is_anomaly"]  # the drop day in its baseline does not move the median
    assert not any(r["is_anomaly"] for (day, _, _), r in result.items() if day == normal)
    assert {m for (day, ch, m) in result if ch == "all"} == {"containment_rate", "cwq_rate"}  # no resolved chains


def test_no_anomaly_without_enough_history_or_contacts(con):
    drop = BASE + timedelta(days=14)
    rows = [*history(days=3), daily(drop, "chat", "billing", 60, 5), daily(drop, "voice", "delivery", 20, 2)]
    result = anomalies(con, rows, [drop])
    short = result[(drop, "all", "containment_rate")]
    assert short["baseline_days"] == 3 and short["baseline"] is not None
    assert not short["judged"] and not short["is_anomaly"]
    assert not any(r["is_anomaly"] for r in result.values())

    con.execute("DELETE FROM metrics.daily_outcomes")
    result = anomalies(con, [*history(), daily(drop, "voice", "delivery", 20, 2)], [drop])
    few = result[(drop, "voice", "containment_rate")]
    assert few["baseline_days"] == 14 and few["sample_size"] == 20  # below anomalies.min_contacts (30)
    assert not few["judged"] and not few["is_anomaly"]


def test_cost_to_resolve_anomaly_from_resolving_contacts(con):
    rows = []
    for i in range(15):
        day = BASE + timedelta(days=i)
        cost = 30.0 if i == 14 else 10.0 + (i % 3) * 0.2
        rows += [outcome(f"r{i}-{n}", day, cost=cost, channel="chat") for n in range(30)]
        rows.append(outcome(f"o{i}", day, cost=500.0, resolved=False, resolves_chain=False))  # open: not counted
    insert(con, "metrics.contact_outcomes", rows)
    day = BASE + timedelta(days=14)
    result = run_query(con, "metrics.outcome_anomalies", "metrics/outcome_anomalies", [day])
    cost = {(r["channel"], r["metric"]): r for r in result}[("all", "cost_to_resolve_median")]
    assert (cost["value"], cost["sample_size"]) == (30.0, 30)
    assert cost["baseline"] == pytest.approx(10.2) and cost["is_anomaly"] and cost["direction"] == "up"
    assert cost["move_pct"] == pytest.approx(100 * (30 - 10.2) / 10.2)
