"""The SQL outcome definitions (docs/metrics.md) on hand-made contacts."""

from datetime import date, datetime, timedelta

import pytest

from cx_signals.config import load_config
from tests.conftest import insert, run_query, session_row, signals_row

DAY = date(2026, 10, 1)
COSTS = load_config()["costs"]


def contact(
    cid,
    start,
    hours=0.25,
    channel="chat",
    intent="billing",
    customer="k1",
    bot=0,
    agent=0,
    handoffs=0,
    transfers=0,
    disposition="resolved",
    csat=None,
    sentiment_end=0.2,
    agent_joined_minutes=None,
):
    started = datetime(2026, 10, 1) + timedelta(hours=start)
    return signals_row(
        cid,
        started,
        hours,
        channel=channel,
        labelled_intent=intent,
        customer_key=customer,
        bot_turns=bot,
        agent_turns=agent,
        handoffs=handoffs,
        transfers=transfers,
        disposition=disposition,
        csat=csat,
        sentiment_end=sentiment_end,
        agent_joined_at=started + timedelta(minutes=agent_joined_minutes) if agent_joined_minutes is not None else None,
    )


def friction_session(customer: str, start: datetime, minutes: int = 5) -> dict:
    """A session of `customer` with one rage burst (friction score 3.0, had_friction) lasting `minutes`."""
    return session_row(
        f"s-{customer}-{start:%H%M}",
        start,
        start + timedelta(minutes=minutes),
        customer,
        3.0,
        n_events=5,
        page_views=1,
        clicks=3,
        rage_click_bursts=1,
        rage_clicks=3,
    )


def outcomes(con, contacts, sessions=(), days=None):
    insert(con, "signals.conversation_signals", contacts)
    if sessions:
        insert(con, "signals.session_friction", list(sessions))
    days = days or sorted({c["partition_date"] for c in contacts})
    rows = run_query(con, "metrics.contact_outcomes", "metrics/contact_outcomes", days)
    return {r["conversation_id"]: r for r in rows}


def test_containment_escalation_and_costs(con):
    rows = outcomes(
        con,
        [
            contact("bot_only", 0, bot=3),
            contact("handoff", 1, bot=2, agent=3, handoffs=1, agent_joined_minutes=5),
            contact(
                "voice", 2, hours=0.5, channel="voice", agent=4, transfers=2, agent_joined_minutes=0, intent="other"
            ),
            contact("email", 3, hours=30, channel="email", agent=2, agent_joined_minutes=60, intent="third"),
        ],
    )
    assert rows["bot_only"]["contained"] and not rows["bot_only"]["escalated"]
    assert not rows["handoff"]["contained"] and rows["handoff"]["escalated"]
    assert rows["bot_only"]["cost"] == pytest.approx(COSTS["bot_cost_per_conversation"])
    chat = COSTS["agent_cost_per_minute"]["chat"]
    assert rows["handoff"]["cost"] == pytest.approx(
        COSTS["bot_cost_per_conversation"] + 10 * chat + COSTS["after_contact_work_minutes"]["chat"] * chat
    )
    voice = COSTS["agent_cost_per_minute"]["voice"]
    assert rows["voice"]["cost"] == pytest.approx(
        30 * voice + COSTS["after_contact_work_minutes"]["voice"] * voice + 2 * COSTS["transfer_overhead"]
    )
    email = COSTS["agent_cost_per_minute"]["email"]
    minutes = 2 * COSTS["written_reply_minutes"]["email"]
    assert rows["email"]["agent_minutes"] == pytest.approx(minutes)
    assert rows["email"]["cost"] == pytest.approx((minutes + COSTS["after_contact_work_minutes"]["email"]) * email)


def test_repeat_window_is_measured_from_the_end_and_needs_the_same_intent(con):
    rows = outcomes(
        con,
        [
            contact("first", 0, hours=1),
            contact("within", 1 + 7 * 24, channel="voice"),  # starts exactly 7 days after first ended
            contact("other_intent", 2 + 7 * 24, intent="delivery"),
            contact("unknown_intent", 10 * 24, intent=None, customer="k2"),
            contact("after_unknown", 12 * 24, customer="k2"),
            contact("late", 25 * 24),  # > 7 days after "within"
        ],
        days=[DAY + timedelta(days=d) for d in range(26)],
    )
    assert rows["first"]["repeat_contact"] and not rows["first"]["fcr"]
    assert rows["within"]["repeat_contact"] is False and rows["within"]["fcr"]
    assert rows["unknown_intent"]["repeat_contact"]  # either intent unknown counts
    assert not rows["late"]["repeat_contact"]


def test_chains_cost_to_resolve_and_time_to_resolve(con):
    rows = outcomes(
        con,
        [
            contact("a1", 0, bot=2, disposition="unresolved"),
            contact("a2", 24, channel="voice", agent=3, agent_joined_minutes=0, disposition="unresolved"),
            contact("a3", 48, agent=2, agent_joined_minutes=0, disposition="resolved"),
            contact("b1", 5, intent="delivery", bot=1, disposition="unresolved"),
        ],
        days=[DAY + timedelta(days=d) for d in range(3)],
    )
    chain = [rows[c] for c in ("a1", "a2", "a3")]
    assert {r["chain_id"] for r in chain} == {"a1"} and [r["chain_position"] for r in chain] == [1, 2, 3]
    total = sum(r["cost"] for r in chain)
    assert all(r["cost_to_resolve"] == pytest.approx(total) and r["chain_status"] == "resolved" for r in chain)
    assert [r["resolves_chain"] for r in chain] == [False, False, True]
    assert rows["a1"]["time_to_resolve_seconds"] == pytest.approx((48 + 0.25) * 3600)
    assert rows["b1"]["chain_status"] == "open" and rows["b1"]["cost_to_resolve"] is None
    assert rows["b1"]["chain_cost_so_far"] == pytest.approx(COSTS["bot_cost_per_conversation"])


def test_containment_with_quality_parts(con):
    base = {"bot": 2}
    after = friction_session("k5", datetime(2026, 10, 1, 6))
    rows = outcomes(
        con,
        [
            contact("good", 0, customer="k1", **base),
            contact("negative", 0, customer="k2", sentiment_end=-0.06, **base),
            contact("edge_sentiment", 0, customer="k3", sentiment_end=-0.05, **base),
            contact("low_csat", 0, customer="k4", csat=2, **base),
            contact("friction_after", 0, customer="k5", **base),
            contact("repeated", 0, customer="k6", **base),
            contact("again", 30, customer="k6", **base),
        ],
        sessions=[after],
        days=[DAY, DAY + timedelta(days=1)],
    )
    assert rows["good"]["contained_with_quality"] and rows["edge_sentiment"]["contained_with_quality"]
    assert rows["negative"]["cwq_failed_sentiment"] and not rows["negative"]["contained_with_quality"]
    assert rows["low_csat"]["cwq_failed_csat"] and not rows["low_csat"]["contained_with_quality"]
    assert rows["friction_after"]["cwq_failed_friction"]
    assert rows["repeated"]["cwq_failed_repeat"] and rows["again"]["contained_with_quality"]


def test_daily_outcomes_rates_and_wilson_intervals(con):
    outcomes(
        con,
        [
            contact(
                f"c{i}",
                i * 0.5,
                bot=1,
                agent=0 if i < 3 else 2,
                customer=f"k{i}",
                agent_joined_minutes=None if i < 3 else 1,
            )
            for i in range(10)
        ],
    )
    (row,) = run_query(con, "metrics.daily_outcomes", "metrics/daily_outcomes", [DAY])
    assert (row["contacts"], row["contained"]) == (10, 3)
    assert row["containment_rate"] == pytest.approx(0.3)
    # Wilson 95% interval for 3/10: [0.1078, 0.6032]
    assert row["containment_rate_low"] == pytest.approx(0.1078, abs=1e-4)
    assert row["containment_rate_high"] == pytest.approx(0.6032, abs=1e-4)
    assert row["chains_resolved"] == 10


@pytest.mark.parametrize(("minutes_before", "expected"), [(59, True), (60, True), (61, False)])
def test_pre_contact_friction_window_is_inclusive(con, minutes_before, expected):
    contact_start = datetime(2026, 10, 1, 10)
    session_end = contact_start - timedelta(minutes=minutes_before)
    session = friction_session("k1", session_end - timedelta(minutes=5))
    rows = outcomes(con, [contact("c", 10, bot=1)], sessions=[session])
    assert rows["c"]["pre_contact_friction"] is expected


def test_chain_cost_so_far_accumulates_along_the_chain(con):
    rows = outcomes(
        con,
        [contact("x1", 0, bot=1, disposition="unresolved"), contact("x2", 24, bot=1)],
        days=[DAY, DAY + timedelta(days=1)],
    )
    bot = COSTS["bot_cost_per_conversation"]
    assert (rows["x1"]["chain_cost_so_far"], rows["x2"]["chain_cost_so_far"]) == (
        pytest.approx(bot),
        pytest.approx(2 * bot),
    )
    assert rows["x1"]["cost_to_resolve"] == pytest.approx(2 * bot)
