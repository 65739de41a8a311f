"""Predicted-CSAT calibration, model error by segment and agent-level cautions (sql/metrics/csat_calibration.sql,
model_fairness.sql, agent_daily.sql) on hand-made rows."""

from datetime import date, datetime, timedelta

import pytest

from cx_signals.config import load_config
from tests.conftest import insert, run_query
from tests.unit.test_sql_priorities import outcome, signals, turn

DAY = date(2026, 10, 28)


def conversation(cid, day=DAY, consent=True):
    """A raw.conversations row: what consented() reads."""
    return {
        "partition_date": day,
        "conversation_id": cid,
        "customer_key": f"k_{cid}",
        "channel": "chat",
        "started_at": datetime(day.year, day.month, day.day, 10),
        "ended_at": datetime(day.year, day.month, day.day, 10, 10),
        "consent_analytics": consent,
    }


def prediction(cid, predicted, surveyed, day=DAY, version="v1", in_training=None):
    return {
        "partition_date": day,
        "conversation_id": cid,
        "predicted_csat": predicted,
        "surveyed_csat": surveyed,
        "model_version": version,
        "in_training": in_training,
    }


# ------------------------------------------------------------------------------------------------- csat_calibration


def test_calibration_by_decile_of_predicted_csat(con):
    # 20 surveyed contacts over the window: predicted 1.1 .. 5.0; the model over-predicts the top half by 1 point
    rows, conversations = [], []
    for i in range(20):
        predicted = 1.0 + 0.2 * (i + 0.5)
        observed = round(predicted) - (1 if i >= 10 else 0)
        cid = f"s{i:02d}"
        # the model trained on the first 10 days of the window; the last 10 contacts came after
        rows.append(prediction(cid, predicted, max(1, observed), DAY - timedelta(days=i), in_training=i >= 10))
        conversations.append(conversation(cid, DAY - timedelta(days=i)))
    # not counted: unsurveyed, a customer who refused consent, a contact before the 28-day window, another version
    rows += [
        prediction("u1", 3.0, None),
        prediction("r1", 1.0, 5),
        prediction("old", 1.0, 5, DAY - timedelta(days=28)),
    ]
    conversations += [conversation("u1"), conversation("r1", consent=False), conversation("old", DAY - timedelta(28))]
    rows += [prediction(f"w{i}", 2.0 + i, 3, version="v2") for i in range(3)]
    conversations += [conversation(f"w{i}") for i in range(3)]
    insert(con, "signals.csat_predictions", rows)
    insert(con, "raw.conversations", conversations)
    result = [r for r in run_query(con, "metrics.csat_calibration", "metrics/csat_calibration", [DAY])]
    v1 = [r for r in result if r["model_version"] == "v1"]
    assert [r["decile"] for r in v1] == list(range(1, 11))
    assert all(r["surveyed"] == 2 for r in v1)
    assert all(r["window_start"] == DAY - timedelta(days=27) for r in result)
    lowest, highest = v1[0], v1[-1]
    assert lowest["predicted_min"] == pytest.approx(1.1) and lowest["predicted_max"] == pytest.approx(1.3)
    assert lowest["mean_predicted"] == pytest.approx(1.2) and lowest["mean_observed"] == 1.0
    assert lowest["gap"] == pytest.approx(0.2)
    # the over-predicted top half shows as a positive gap outside the observed interval's reach of 0
    assert highest["gap"] == pytest.approx(4.8 - 4.0)
    assert all(r["gap"] > 0.4 for r in v1[5:])
    assert all(r["observed_low"] <= r["mean_observed"] <= r["observed_high"] for r in v1)
    # out of sample: the contacts started after the training days (i < 10) fill the low deciles only
    assert [r["held_out_surveyed"] for r in v1] == [2] * 5 + [0] * 5
    assert lowest["held_out_gap"] == pytest.approx(0.2) and lowest["held_out_mean_observed"] == 1.0
    assert highest["held_out_gap"] is None and highest["held_out_mean_predicted"] is None
    # a version is calibrated on its own contacts: three contacts give three deciles
    v2 = [r for r in result if r["model_version"] == "v2"]
    assert [(r["decile"], r["surveyed"], r["mean_observed"]) for r in v2] == [(1, 1, 3.0), (2, 1, 3.0), (3, 1, 3.0)]
    assert v2[0]["observed_low"] == v2[0]["observed_high"] == 3.0
    assert all(r["held_out_surveyed"] == 0 for r in v2)  # in_training unknown: not counted as held out


# --------------------------------------------------------------------------------------------------- model_fairness


def contact(cid, channel, queue=None, day=DAY, intent="billing", repeat=False, ended=None):
    row = outcome(cid, day, intent=intent, channel=channel, repeat=repeat)
    row["queue"] = queue
    if ended is not None:
        row["ended_at"] = ended
    return row


def fairness_config(min_sample=3):
    return load_config().merged({"fairness": {"min_sample": min_sample}})


def test_csat_error_and_calibration_by_channel_and_queue(con):
    outcomes, predictions = [], []
    # chat: 4 surveyed, predicted exactly; voice: 4 surveyed, over-predicted by 2; email: 1 surveyed, too few to judge
    for i in range(4):
        outcomes += [contact(f"c{i}", "chat", "va"), contact(f"v{i}", "voice", "ivr")]
        predictions += [prediction(f"c{i}", 4.0, 4), prediction(f"v{i}", 4.0, 2)]
    outcomes += [contact("e0", "email"), contact("n0", "chat", "va")]
    predictions += [prediction("e0", 3.0, 1), prediction("n0", 3.0, None)]  # n0 not surveyed: not labelled
    insert(con, "metrics.contact_outcomes", outcomes)
    insert(con, "signals.csat_predictions", predictions)
    rows = run_query(con, "metrics.model_fairness", "metrics/model_fairness", [DAY], fairness_config())
    by = {(r["segment_type"], r["segment"]): r for r in rows if r["model"] == "csat"}
    overall = by[("all", "all")]
    assert overall["labelled"] == 9 and overall["error_measure"] == "mae"
    assert overall["error"] == pytest.approx((4 * 2 + 2) / 9)
    assert overall["calibration_gap"] == pytest.approx((4 * 0 + 4 * 2 + 2) / 9)
    chat, voice, email = by[("channel", "chat")], by[("channel", "voice")], by[("channel", "email")]
    assert (chat["error"], chat["calibration_gap"], chat["error_ratio"]) == (0.0, 0.0, 0.0)
    assert voice["error"] == 2.0 and voice["error_ratio"] == pytest.approx(2.0 / overall["error"])
    assert voice["calibration_gap_vs_overall"] == pytest.approx(2.0 - overall["calibration_gap"])
    assert voice["judged"] and voice["disparity_flag"] and not chat["disparity_flag"]
    # one surveyed email contact is listed but not judged, so never flagged despite its error of 2
    assert email["labelled"] == 1 and not email["judged"] and not email["disparity_flag"]
    # worst vs best among judged channels: best error 0 gives no ratio
    assert chat["worst_to_best_ratio"] is None
    assert by[("queue", "(none)")]["labelled"] == 1 and by[("queue", "ivr")]["error"] == 2.0
    assert overall["abstention_rate"] is None and overall["window_start"] == DAY - timedelta(days=27)


def test_repeat_risk_is_judged_on_closed_windows_with_its_first_score(con):
    early = DAY - timedelta(days=10)
    ended = datetime(early.year, early.month, early.day, 10, 10)
    outcomes = [
        contact("r1", "chat", day=early, repeat=True, ended=ended),
        contact("r2", "chat", day=early, repeat=False, ended=ended),
        contact("r3", "voice", day=early, repeat=True, ended=ended),
        contact("open", "chat", repeat=True),  # ended on DAY: its 7-day window is still running
    ]
    risk = [
        {"partition_date": early, "journey_id": c, "last_conversation_id": c, "risk": r, "model_version": "m1"}
        for c, r in (("r1", 0.8), ("r2", 0.2), ("r3", 0.5), ("open", 0.9))
    ]
    # a later re-score of r1 is not what proactive service saw
    risk.append(
        {"partition_date": early + timedelta(1), "journey_id": "r1", "last_conversation_id": "r1", "risk": 0.0,
         "model_version": "m1"}
    )  # fmt: skip
    insert(con, "metrics.contact_outcomes", outcomes)
    insert(con, "metrics.repeat_risk", risk)
    rows = run_query(con, "metrics.model_fairness", "metrics/model_fairness", [DAY], fairness_config(min_sample=1))
    by = {(r["segment_type"], r["segment"]): r for r in rows if r["model"] == "repeat_risk"}
    overall, chat, voice = by[("all", "all")], by[("channel", "chat")], by[("channel", "voice")]
    assert overall["labelled"] == 3 and overall["error_measure"] == "brier"
    assert overall["error"] == pytest.approx((0.2**2 + 0.2**2 + 0.5**2) / 3)
    assert (overall["mean_predicted"], overall["mean_observed"]) == (pytest.approx(0.5), pytest.approx(2 / 3))
    assert chat["error"] == pytest.approx(0.04) and voice["error"] == pytest.approx(0.25)
    assert chat["worst_to_best_ratio"] == voice["worst_to_best_ratio"] == pytest.approx(0.25 / 0.04)
    assert voice["disparity_flag"] and not chat["disparity_flag"]


def test_triage_error_among_answered_and_abstention_by_segment(con):
    outcomes = [contact(f"t{i}", "chat" if i < 4 else "voice") for i in range(8)]
    outcomes.append({**contact("m1", "chat"), "intent_source": "model"})  # no label: not judged
    predicted = ["billing", "billing", "billing", None, "billing", "refund", "refund", None]
    intents = [
        {"partition_date": DAY, "conversation_id": f"t{i}", "predicted_intent": p, "model_version": "i1"}
        for i, p in enumerate(predicted)
    ]
    intents.append(
        {"partition_date": DAY, "conversation_id": "m1", "predicted_intent": "refund", "model_version": "i1"}
    )
    insert(con, "metrics.contact_outcomes", outcomes)
    insert(con, "signals.intent_predictions", intents)
    rows = run_query(con, "metrics.model_fairness", "metrics/model_fairness", [DAY], fairness_config(min_sample=4))
    by = {(r["segment_type"], r["segment"]): r for r in rows if r["model"] == "intent_triage"}
    overall, chat, voice = by[("all", "all")], by[("channel", "chat")], by[("channel", "voice")]
    assert (overall["labelled"], overall["answered"], overall["abstention_rate"]) == (8, 6, 0.25)
    assert overall["error"] == pytest.approx(2 / 6) and overall["error_measure"] == "error_rate"
    assert (chat["error"], voice["error"]) == (0.0, pytest.approx(2 / 3))
    assert voice["error_ratio"] == pytest.approx(2.0) and voice["disparity_flag"]
    assert overall["mean_predicted"] is None and overall["calibration_gap"] is None


# ------------------------------------------------------------------------------------------------------ agent_daily


def test_agent_sentiment_and_csat_carry_a_caution_below_their_minimum_sample(con):
    turns, outcomes, conversation_signals = [], [], []
    for i in range(3):
        cid = f"a{i}"
        turns += [turn(cid, 0, "customer", "10:00:00", "hi"), turn(cid, 1, "agent", "10:01:00", "hello", agent="ag")]
        outcomes.append(outcome(cid, csat=4 if i == 0 else None))
        conversation_signals.append(signals(cid, 0.2, True, f"k_{cid}"))
    insert(con, "raw.turns", turns)
    insert(con, "metrics.contact_outcomes", outcomes)
    insert(con, "signals.conversation_signals", conversation_signals)
    (default,) = run_query(con, "metrics.agent_daily", "metrics/agent_daily", [DAY])
    assert (default["sentiment_lift_conversations"], default["surveyed"]) == (3, 1)
    assert not default["sentiment_lift_judged"] and not default["csat_judged"]
    assert default["caution"] == (
        "sentiment lift from 3 conversations (fewer than 10): not a basis for judging the agent; "
        "CSAT from 1 surveys (fewer than 10): not a basis for judging the agent"
    )
    lower = load_config().merged({"fairness": {"agent_min_sentiment_conversations": 3, "agent_min_surveyed": 1}})
    (judged,) = run_query(con, "metrics.agent_daily", "metrics/agent_daily", [DAY], lower)
    assert judged["sentiment_lift_judged"] and judged["csat_judged"] and judged["caution"] is None
    only_csat = load_config().merged({"fairness": {"agent_min_sentiment_conversations": 3}})
    (partly,) = run_query(con, "metrics.agent_daily", "metrics/agent_daily", [DAY], only_csat)
    assert partly["caution"] == "CSAT from 1 surveys (fewer than 10): not a basis for judging the agent"
