"""Interventions measured (docs/metrics.md): the hold-out of signals.friction_alerts, metrics.intervention_effects
and metrics.alert_rule_precision on hand-made alerts, contacts and actions."""

import math
from datetime import date, datetime, timedelta

import pytest

from cx_signals.config import load_config
from cx_signals.interventions import held_out
from tests.conftest import insert, run_query
from tests.unit.test_sql_journeys import alerts, contact

T0 = datetime(2026, 10, 1, 10, 0)
LAST = date(2026, 10, 10)
FRICTION = "friction_before_contact"


def alert(journey, held, at=T0, rule=FRICTION, customer="k1"):
    return {
        "partition_date": at.date(),
        "alert_id": f"a-{rule}-{journey}",
        "rule": rule,
        "severity": "high",
        "subject_type": "conversation",
        "subject_id": journey,
        "customer_key": customer,
        "journey_id": journey,
        "alert_at": at,
        "value": 1.0,
        "threshold": 1.0,
        "reason": "test",
        "held_out": held,
    }


def outcome(cid, chain, start, cost, disposition="unresolved", csat=None, customer="k1"):
    return {
        "partition_date": start.date(),
        "conversation_id": cid,
        "customer_key": customer,
        "channel": "chat",
        "intent": "billing",
        "intent_source": "label",
        "started_at": start,
        "ended_at": start + timedelta(minutes=15),
        "disposition": disposition,
        "csat": csat,
        "cost": cost,
        "chain_id": chain,
    }


def action(action_id, at, **target):
    return {
        "partition_date": at.date(),
        "action_id": action_id,
        "ts": at,
        "action": "callback",
        "actor_id": "ops-1",
        "actor_key": "ak",
        **target,
    }


def wilson(k, n):
    z, p = 1.96, k / n
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - half) / (1 + z * z / n)), min(1.0, (centre + half) / (1 + z * z / n))


@pytest.fixture
def world(con):
    """Six journeys first alerted (friction_before_contact) at T0 and one sentiment alert on LAST:
    J1 held out, a repeat the next day that resolves it; J2 held out, nothing more; J3 acted on (by alert id);
    J4 acted on (by conversation id), resolved 8 days later (after the repeat window: not a repeat); J5 acted on
    only before its alert (so not acted); J6 held out but acted on anyway; J7 alerted on LAST, not acted on."""
    later = T0 + timedelta(hours=1)
    insert(con, "signals.friction_alerts", [
        alert("J1", True), alert("J2", True), alert("J3", False), alert("J4", False), alert("J5", False),
        alert("J6", True), alert("J7", False, at=datetime(2026, 10, 10, 9), rule="sentiment_drop_with_escalation"),
    ])  # fmt: skip
    insert(con, "metrics.contact_outcomes", [
        *(outcome(j, j, T0, 10.0) for j in ("J1", "J2", "J3", "J4", "J5", "J6")),
        outcome("J1-b", "J1", T0 + timedelta(days=1), 5.0, "resolved", csat=2),
        outcome("J4-b", "J4", T0 + timedelta(days=8), 5.0, "resolved"),
        outcome("J7", "J7", datetime(2026, 10, 10, 8, 50), 10.0),
    ])  # fmt: skip
    insert(con, "raw.actions", [
        action("x3", later, alert_id="a-friction_before_contact-J3"),
        action("x4", later, conversation_id="J4"),
        action("x5", T0 - timedelta(hours=1), journey_id="J5"),
        action("x6", later, journey_id="J6"),
    ])  # fmt: skip
    return con


def test_intervention_effects_compare_acted_and_held_out_journeys_with_intervals(world):
    rows = run_query(world, "metrics.intervention_effects", "metrics/intervention_effects", [T0.date(), LAST])
    by = {(r["partition_date"], r["rule"]): r for r in rows}
    assert set(by) == {(d, rule) for d in (T0.date(), LAST) for rule in ("all", FRICTION)} | {
        (LAST, "sentiment_drop_with_escalation")
    }
    row = by[LAST, FRICTION]
    assert (row["alerted_journeys"], row["acted_journeys"], row["held_out_journeys"]) == (6, 2, 3)
    assert (row["not_acted_journeys"], row["held_out_with_action"]) == (1, 1)
    assert (row["acted_repeats"], row["held_out_repeats"]) == (0, 1)
    assert row["acted_repeat_rate"] == 0.0 and row["held_out_repeat_rate"] == pytest.approx(1 / 3)
    assert (row["held_out_repeat_rate_low"], row["held_out_repeat_rate_high"]) == pytest.approx(wilson(1, 3))
    a_low, a_high = wilson(0, 2)
    h_low, h_high = wilson(1, 3)
    assert row["repeat_rate_difference"] == pytest.approx(-1 / 3)
    assert row["repeat_rate_difference_low"] == pytest.approx(-1 / 3 - math.hypot(0 - a_low, h_high - 1 / 3))
    assert row["repeat_rate_difference_high"] == pytest.approx(-1 / 3 + math.hypot(a_high - 0, 1 / 3 - h_low))
    # resolved: J1 24 h 15 min after its alert (held out), J4 8 days 15 min after (acted); one journey each: no interval
    assert (row["held_out_resolved"], row["held_out_hours_to_resolve"]) == (1, pytest.approx(24.25))
    assert (row["acted_resolved"], row["acted_hours_to_resolve"]) == (1, pytest.approx(192.25))
    assert row["acted_hours_to_resolve_low"] is None and row["hours_to_resolve_difference_low"] is None
    # cost of the contacts ending at or after the alert: held out 15, 10, 10; acted 10, 15
    held, acted = [15.0, 10.0, 10.0], [10.0, 15.0]
    sd_h, sd_a = (math.sqrt(sum((x - sum(v) / len(v)) ** 2 for x in v) / (len(v) - 1)) for v in (held, acted))
    assert row["held_out_cost_to_resolve"] == pytest.approx(35 / 3)
    assert row["held_out_cost_to_resolve_low"] == pytest.approx(35 / 3 - 1.96 * sd_h / math.sqrt(3))
    assert row["acted_cost_to_resolve"] == pytest.approx(12.5)
    half = 1.96 * math.sqrt(sd_a**2 / 2 + sd_h**2 / 3)
    assert row["cost_to_resolve_difference"] == pytest.approx(12.5 - 35 / 3)
    assert row["cost_to_resolve_difference_high"] == pytest.approx(12.5 - 35 / 3 + half)
    # on the alerts' own day, nothing after it is seen yet: J1's repeat and J4's resolution are in the future
    early = by[T0.date(), FRICTION]
    assert (early["held_out_repeats"], early["held_out_resolved"], early["acted_resolved"]) == (0, 0, 0)
    # 'all' counts each journey once, at its first alert of any rule
    assert by[LAST, "all"]["alerted_journeys"] == 7 and by[LAST, "all"]["not_acted_journeys"] == 2


def test_alert_rule_precision_judges_alerts_once_their_period_is_over(world):
    rows = run_query(world, "metrics.alert_rule_precision", "metrics/alert_rule_precision", [T0.date(), LAST])
    by = {(r["partition_date"], r["rule"]): r for r in rows}
    row = by[LAST, FRICTION]
    # J1 needed help (a repeat with CSAT 2); J2..J6 had neither within 7 days (J4's second contact is on day 8)
    assert (row["alerts"], row["judged_alerts"], row["needed_help"]) == (6, 6, 1)
    assert row["unresolved"] == 5  # J1 resolved within the period, the others did not
    assert (row["precision_low"], row["precision_high"]) == pytest.approx(wilson(1, 6))
    assert (row["held_out_judged"], row["held_out_needed_help"], row["held_out_precision"]) == (3, 1, 1 / 3)
    # on the alerts' day: nothing judged yet (the period runs 7 days), so no precision
    early = by[T0.date(), FRICTION]
    assert (early["judged_alerts"], early["precision"]) == (0, None)
    # J7 was raised the day before: not judged yet
    assert by[LAST, "sentiment_drop_with_escalation"]["judged_alerts"] == 0
    assert by[LAST, "all"]["alerts"] == 7


def test_session_alerts_need_help_when_their_customer_contacts_and_anonymous_ones_are_not_judged(con):
    session = {**alert("s1", False, rule="rage_then_help"), "subject_type": "session", "journey_id": None}
    anonymous = {**session, "alert_id": "a-s2", "subject_id": "s2", "customer_key": None}
    insert(con, "signals.friction_alerts", [session, anonymous])
    insert(con, "metrics.contact_outcomes", [outcome("c1", "c1", T0 + timedelta(hours=2), 1.0, customer="k1")])
    [row, _] = sorted(
        run_query(con, "metrics.alert_rule_precision", "metrics/alert_rule_precision", [T0.date()]),
        key=lambda r: r["rule"] != "rage_then_help",
    )
    assert (row["rule"], row["alerts"], row["judged_alerts"], row["needed_help"]) == ("rage_then_help", 2, 1, 1)


def test_the_sql_hold_out_is_the_python_one_and_about_its_share(con):
    salt, share = "cx-holdout-1", 0.1
    ids = [f"CV{i:07d}" for i in range(1, 4001)]
    held = [held_out(i, salt, share) for i in ids]
    assert 0.08 < sum(held) / len(held) < 0.12
    query = """SELECT CAST('0x' || substr(md5($salt || ':' || id), 1, 8) AS UBIGINT) < $share * 4294967296
               FROM (SELECT unnest($ids::VARCHAR[]) AS id, generate_subscripts($ids::VARCHAR[], 1) AS i) ORDER BY i"""
    in_sql = [r[0] for r in con.execute(query, {"salt": salt, "share": share, "ids": ids}).fetchall()]
    assert in_sql == held
    assert [held_out(i, "another-salt", share) for i in ids] != held  # a new salt draws a new hold-out


def test_friction_alerts_carry_the_hold_out_of_their_journey(con):
    rows = alerts(con, [contact("c1", 10, escalation_requests=1, sentiment=(0.5, -0.6), customer_turns=4)])
    config = load_config()
    assert rows, "the sentiment drop alert fires"
    for row in rows:
        unit = row["journey_id"] or row["alert_id"]
        assert row["held_out"] == held_out(unit, config.interventions.holdout_salt, config.interventions.holdout_share)
    everything = load_config().merged({"interventions": {"holdout_share": 1.0}})
    assert all(r["held_out"] for r in run_query(con, "signals.friction_alerts", "signals/friction_alerts",
                                                 [r["partition_date"] for r in rows], everything))  # fmt: skip
