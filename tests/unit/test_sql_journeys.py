"""Journeys and in-journey alerts (sql/signals/journeys.sql, sql/signals/friction_alerts.sql) on hand-made cases."""

import json
from datetime import date, datetime, timedelta

import pytest

from tests.conftest import event_row, insert, run_query, session_row, signals_row, ts, turn_and_score_rows

DAY = date(2026, 10, 1)
T0 = datetime(2026, 10, 1)


def contact(
    cid,
    start,
    hours=0.25,
    channel="chat",
    intent="billing",
    customer="k1",
    disposition="unresolved",
    escalation_requests=0,
    sentiment=(0.0, 0.0),
    customer_turns=1,
):
    """A conversation_signals row starting `start` hours after 2026-10-01 00:00."""
    return signals_row(
        cid,
        T0 + timedelta(hours=start),
        hours,
        channel=channel,
        labelled_intent=intent,
        customer_key=customer,
        disposition=disposition,
        escalation_requests=escalation_requests,
        sentiment_start=sentiment[0],
        sentiment_end=sentiment[1],
        sentiment_shift=sentiment[1] - sentiment[0],
        sentiment_shift_reliable=customer_turns >= 4,
        customer_turns=customer_turns,
    )


def session(key, start, end, customer="k1", friction=True, score=None, **extra):
    """A session_friction row from `start` to `end` ('YYYY-MM-DD HH:MM:SS')."""
    score = score if score is not None else (4.0 if friction else 0.0)
    return {**session_row(key, ts(start), ts(end), customer, score, **extra), "had_friction": friction}


def journeys(con, contacts, sessions=(), days=(DAY,), predictions=()):
    insert(con, "signals.conversation_signals", contacts)
    if sessions:
        insert(con, "signals.session_friction", list(sessions))
    if predictions:
        insert(con, "signals.intent_predictions", list(predictions))
    return {r["journey_id"]: r for r in run_query(con, "signals.journeys", "signals/journeys", list(days))}


# --- journeys -----------------------------------------------------------------------------------------------


def test_three_contacts_across_channels(con):
    rows = journeys(
        con,
        [
            contact("c1", 10, channel="chat", escalation_requests=1),
            contact("c2", 30, channel="voice", hours=0.5),  # day 2
            contact("c3", 60, channel="email", disposition="resolved", escalation_requests=2),  # day 3
        ],
    )
    (j,) = rows.values()
    assert j["journey_id"] == "c1" and j["partition_date"] == DAY
    assert (j["contacts"], j["channels"], j["channel_switches"]) == (3, "chat,voice,email", 2)
    assert (j["first_channel"], j["last_channel"]) == ("chat", "email")
    assert json.loads(j["conversation_ids"]) == ["c1", "c2", "c3"]
    assert j["started_at"] == T0 + timedelta(hours=10)
    assert j["last_contact_started_at"] == T0 + timedelta(hours=60)
    assert j["last_contact_ended_at"] == T0 + timedelta(hours=60.25)
    assert (j["resolved"], j["status"], j["escalation_requests"]) == (True, "resolved", 3)
    assert j["resolved_at"] == T0 + timedelta(hours=60.25)
    assert j["time_to_resolve_seconds"] == pytest.approx(50.25 * 3600)


def test_channel_switches_count_changes_only(con):
    rows = journeys(
        con,
        [contact("c1", 10, channel="chat"), contact("c2", 11, channel="chat"), contact("c3", 12, channel="voice")],
    )
    assert (rows["c1"]["channels"], rows["c1"]["channel_switches"]) == ("chat,chat,voice", 1)


@pytest.mark.parametrize(("minutes_before", "expected"), [(59, True), (60, True), (61, False)])
def test_pre_contact_friction_window(con, minutes_before, expected):
    end = T0 + timedelta(hours=10) - timedelta(minutes=minutes_before)
    start = end - timedelta(minutes=20)
    fmt = "%Y-%m-%d %H:%M:%S"
    j = journeys(con, [contact("c1", 10)], [session("sid:s1", start.strftime(fmt), end.strftime(fmt))])["c1"]
    assert j["pre_contact_friction"] is expected
    assert j["failure_demand_contacts"] == int(expected)
    assert j["first_friction_at"] == (start if expected else None)
    assert (j["sessions_before"], j["friction_sessions"]) == ((1, 1) if expected else (0, 0))


def test_session_without_friction_counts_but_is_not_failure_demand(con):
    j = journeys(
        con,
        [contact("c1", 10)],
        [session("sid:s1", "2026-10-01 09:30:00", "2026-10-01 09:50:00", friction=False, errors=2)],
    )["c1"]
    assert (j["sessions_before"], j["friction_sessions"], j["errors"]) == (1, 0, 2)
    assert not j["pre_contact_friction"] and j["failure_demand_contacts"] == 0


def test_friction_session_spanning_midnight(con):
    # the session started the day before (its partition) and ended 25 min before a contact just after midnight
    j = journeys(
        con,
        [contact("c1", 24.5)],
        [session("sid:s1", "2026-10-01 23:40:00", "2026-10-02 00:05:00", crashes=1)],
        days=[date(2026, 10, 2)],
    )["c1"]
    assert j["partition_date"] == date(2026, 10, 2)
    assert j["pre_contact_friction"] and j["first_friction_at"] == ts("2026-10-01 23:40:00")
    assert (j["sessions_before"], j["crashes"]) == (1, 1)


def test_sessions_between_and_failure_demand_on_a_later_contact(con):
    rows = journeys(
        con,
        [contact("c1", 10), contact("c2", 20, channel="voice")],
        [
            session("sid:s1", "2026-10-01 19:00:00", "2026-10-01 19:30:00", rage_click_bursts=2, errors=1),
            session("sid:s2", "2026-10-01 20:05:00", "2026-10-01 20:10:00", friction=False),  # during c2
            session("sid:s3", "2026-10-01 21:00:00", "2026-10-01 21:10:00"),  # after the last contact's end
            session("sid:s4", "2026-10-01 19:00:00", "2026-10-01 19:30:00", customer="k2"),  # someone else
        ],
    )
    j = rows["c1"]
    assert (j["sessions_before"], j["sessions_between"], j["friction_sessions"]) == (0, 2, 1)
    assert (j["rage_click_bursts"], j["errors"]) == (2, 1)
    assert not j["pre_contact_friction"] and j["failure_demand_contacts"] == 1


def test_journey_continues_past_the_range_end_and_no_start_mid_chain(con):
    rows = journeys(
        con,
        [
            contact("before", -40),  # 2026-09-29: c1 repeats it, so c1 does not start a journey
            contact("c1", 10),
            contact("late", 34),  # 2026-10-02, outside the range, within R of c1: same journey
            contact("other", 10, customer="k2", disposition="resolved"),
            contact("other2", 34 + 24 * 8, customer="k2"),  # more than R days after: a new journey (not in range)
        ],
    )
    assert set(rows) == {"other"}
    assert rows["other"]["contacts"] == 1
    days = [date(2026, 9, 29), date(2026, 9, 30), DAY]
    again = {r["journey_id"]: r for r in run_query(con, "signals.journeys", "signals/journeys", days)}
    assert again["before"]["contacts"] == 3 and again["before"]["channels"] == "chat,chat,chat"
    assert "c1" not in again


def test_single_contact_journey(con):
    rows = journeys(con, [contact("c1", 10, channel="email", disposition=None)])
    j = rows["c1"]
    assert (j["contacts"], j["channel_switches"], j["sessions_between"]) == (1, 0, 0)
    assert j["first_channel"] == j["last_channel"] == "email"
    assert (j["resolved"], j["status"], j["resolved_at"], j["time_to_resolve_seconds"]) == (False, "open", None, None)


def test_different_intents_and_gaps_split_journeys(con):
    rows = journeys(
        con,
        [
            contact("b1", 10, intent="billing"),
            contact("d1", 11, intent="delivery", channel="voice"),
            contact("b2", 12, intent="billing", channel="email"),
            contact("p1", 13, intent=None),  # intent from the triage model: billing
            contact("u1", 14, intent=None),  # no label, no prediction: unknown, its own journey
        ],
        predictions=[
            {"partition_date": DAY, "conversation_id": "p1", "predicted_intent": "billing"},
            {"partition_date": DAY, "conversation_id": "u1", "predicted_intent": None},
        ],
    )
    assert set(rows) == {"b1", "d1", "u1"}
    assert (rows["b1"]["contacts"], rows["b1"]["channels"]) == (3, "chat,email,chat")
    assert (rows["d1"]["contacts"], rows["d1"]["intent"]) == (1, "delivery")
    assert rows["u1"]["intent"] == "unknown"


def test_repeat_window_edge(con):
    # R = 7 days after the previous end: 7 days exactly joins, a second later splits
    rows = journeys(
        con,
        [
            contact("a1", 0, hours=1),
            contact("a2", 1 + 7 * 24),
            contact("b1", 2, hours=1, customer="k2"),
            contact("b2", 3 + 7 * 24 + 1 / 3600, customer="k2"),
        ],
    )
    assert rows["a1"]["contacts"] == 2 and rows["b1"]["contacts"] == 1


# --- alerts -------------------------------------------------------------------------------------------------


def alerts(con, contacts=(), sessions=(), events=(), turn_spec=None, days=(DAY,)):
    if contacts:
        insert(con, "signals.conversation_signals", list(contacts))
    if sessions:
        insert(con, "signals.session_friction", list(sessions))
    if events:
        insert(con, "raw.events", list(events))
    for cid, spec in (turn_spec or {}).items():
        load_turns(con, cid, spec)
    return run_query(con, "signals.friction_alerts", "signals/friction_alerts", list(days))


def load_turns(con, cid, spec):
    """spec: (speaker, 'HH:MM:SS' on DAY, text, compound)."""
    turn_rows, scores = turn_and_score_rows(
        cid, [(speaker, ts(f"2026-10-01 {clock}"), None, text, compound) for speaker, clock, text, compound in spec]
    )
    insert(con, "raw.turns", turn_rows)
    insert(con, "signals.turn_sentiment", scores)


DROP_TURNS = [
    ("customer", "10:00:00", "hi, my invoice looks wrong", 0.5),
    ("bot", "10:00:05", "Let me check", 0.0),
    ("customer", "10:01:00", "it charged me twice", 0.4),
    ("customer", "10:02:00", "this is useless, let me speak to a manager", -0.3),  # k=3: shift -0.8, 1 request
    ("bot", "10:02:05", "Sorry", 0.0),
    ("customer", "10:03:00", "terrible", -0.6),
]


def by_rule(rows):
    return {(r["rule"], r["subject_id"]): r for r in rows}


def test_sentiment_drop_with_escalation_fires_at_the_crossing_turn(con):
    rows = alerts(
        con,
        [contact("c1", 10, escalation_requests=1, sentiment=(0.5, -0.6), customer_turns=4)],
        turn_spec={"c1": DROP_TURNS},
    )
    (a,) = rows
    assert (a["rule"], a["subject_type"], a["subject_id"], a["severity"]) == (
        "sentiment_drop_with_escalation",
        "conversation",
        "c1",
        "high",
    )
    assert a["alert_at"] == ts("2026-10-01 10:02:00")
    assert a["value"] == pytest.approx(-1.1) and a["threshold"] == -0.5
    assert "fell from 0.50 to -0.60" in a["reason"] and "1 escalation request" in a["reason"]
    assert "customer turn 3 of 4" in a["reason"] and a["journey_id"] == "c1"
    assert a["partition_date"] == DAY and len(a["alert_id"]) == 32


def test_escalation_after_the_drop_sets_the_alert_time(con):
    spec = [
        ("customer", "10:00:00", "hello", 0.6),
        ("customer", "10:01:00", "awful", -0.4),  # shift -1.0 but no request yet
        ("customer", "10:04:00", "I want to complain", -0.2),
    ]
    (a,) = alerts(
        con,
        [contact("c1", 10, escalation_requests=1, sentiment=(0.6, -0.2), customer_turns=3)],
        turn_spec={"c1": spec},
    )
    assert a["alert_at"] == ts("2026-10-01 10:04:00") and a["severity"] == "medium"  # 3 turns: unreliable shift


@pytest.mark.parametrize(
    ("sentiment", "requests", "disposition"),
    [
        ((0.5, 0.01), 1, "unresolved"),  # shift -0.49: just above -0.5
        ((0.5, -0.6), 0, "unresolved"),  # no escalation request
        ((0.5, -0.6), 1, "resolved"),  # resolved conversation
    ],
)
def test_no_sentiment_alert(con, sentiment, requests, disposition):
    rows = alerts(
        con,
        [contact("c1", 10, escalation_requests=requests, sentiment=sentiment, disposition=disposition)],
        turn_spec={"c1": DROP_TURNS},
    )
    assert rows == []


def test_sentiment_drop_at_exactly_the_threshold_and_no_disposition(con):
    (a,) = alerts(
        con,
        [contact("c1", 10, escalation_requests=1, sentiment=(0.25, -0.25), disposition=None)],
        turn_spec={"c1": [("customer", "10:00:00", "fine", 0.25), ("customer", "10:01:00", "get me a manager", -0.25)]},
    )
    assert a["alert_at"] == ts("2026-10-01 10:01:00") and "disposition not set" in a["reason"]


def web_event(i, kind, clock, session="s1", page="/checkout", anonymous="a1"):
    return event_row(f"e{i}", ts(f"2026-10-01 {clock}"), kind, session_id=session, page=page, anonymous_id=anonymous)


def rage_session(key="sid:s1", page="/checkout", **extra):
    return session(
        key,
        "2026-10-01 09:55:00",
        "2026-10-01 10:30:00",
        rage_click_bursts=1,
        rage_clicks=4,
        first_rage_click_at=ts("2026-10-01 10:00:00"),
        first_rage_click_page=page,
        **extra,
    )


def test_rage_then_help_within_the_window(con):
    (a,) = alerts(
        con,
        sessions=[rage_session()],
        events=[web_event(1, "help_view", "10:15:00", page="/help/payment")],
    )
    assert (a["rule"], a["subject_type"], a["subject_id"], a["severity"]) == (
        "rage_then_help",
        "session",
        "sid:s1",
        "high",
    )
    assert a["alert_at"] == ts("2026-10-01 10:15:00") and a["value"] == 15.0 and a["threshold"] == 15.0
    assert "on /checkout at 10:00:00" in a["reason"] and "/help/payment 15.0 min later" in a["reason"]
    assert a["journey_id"] is None and a["customer_key"] == "k1"


@pytest.mark.parametrize(
    ("page", "help_clock"),
    [("/checkout", "10:15:01"), ("/checkout", "09:59:59"), ("/home", "10:05:00")],
)
def test_no_rage_then_help(con, page, help_clock):
    rows = alerts(con, sessions=[rage_session(page=page)], events=[web_event(1, "help_view", help_clock)])
    assert rows == []


def test_rage_then_help_in_a_session_without_id_and_purchase_after(con):
    events = [
        web_event(1, "help_view", "10:05:00", session=None, page="/cart"),
        web_event(2, "purchase", "10:20:00", session=None),
        web_event(3, "help_view", "10:01:00", session="other"),  # another session of the same device
    ]
    (a,) = alerts(con, sessions=[rage_session("anon:a1:1", page="/cart")], events=events)
    assert (a["subject_id"], a["alert_at"], a["severity"]) == ("anon:a1:1", ts("2026-10-01 10:05:00"), "medium")


def test_repeat_contact_open_journey(con):
    contacts = [
        contact("a1", 10, channel="chat"),
        contact("a2", 30, channel="voice"),  # 2026-10-02 06:00-06:15, still open: alert at its end
        contact("b1", 10, customer="k2", disposition="resolved"),
        contact("b2", 12, customer="k2", disposition="resolved"),  # repeat, but resolved
        contact("c1", 10, customer="k3", disposition="resolved"),
        contact("c2", 11, customer="k3", disposition="resolved"),
        contact("c3", 12, customer="k3", channel="email"),  # third contact, open: high
    ]
    rows = alerts(con, contacts, days=[DAY])
    assert {(r["rule"], r["subject_id"]) for r in rows} == {("repeat_contact_open_journey", "c1")}
    (c,) = rows
    assert (c["severity"], c["value"], c["alert_at"]) == ("high", 3.0, T0 + timedelta(hours=12.25))
    assert "contact 3 (>= 2) on billing" in c["reason"] and "chat,chat,email" in c["reason"]
    rows = alerts(con, days=[date(2026, 10, 2)])  # the table now holds both days
    (a,) = [r for r in rows if r["partition_date"] == date(2026, 10, 2)]
    assert (a["subject_type"], a["subject_id"], a["journey_id"], a["severity"]) == ("journey", "a1", "a1", "medium")
    assert a["alert_at"] == T0 + timedelta(hours=30.25) and a["partition_date"] == date(2026, 10, 2)


def test_repeat_alert_once_per_journey(con):
    contacts = [contact("a1", 10), contact("a2", 11), contact("a3", 12)]
    rows = alerts(con, contacts)
    assert [(r["subject_id"], r["value"]) for r in rows] == [("a1", 2.0)]


@pytest.mark.parametrize(
    ("minutes_before", "disposition", "fires"),
    [(59, "unresolved", True), (61, "unresolved", False), (30, "resolved", False), (30, None, True)],
)
def test_friction_before_contact(con, minutes_before, disposition, fires):
    end = T0 + timedelta(hours=10) - timedelta(minutes=minutes_before)
    fmt = "%Y-%m-%d %H:%M:%S"
    sessions = [session("sid:s1", (end - timedelta(minutes=5)).strftime(fmt), end.strftime(fmt), score=7.0)]
    rows = alerts(con, [contact("c1", 10, disposition=disposition)], sessions)
    if not fires:
        assert rows == []
        return
    (a,) = rows
    assert (a["rule"], a["subject_id"], a["severity"]) == ("friction_before_contact", "c1", "high")
    assert a["alert_at"] == T0 + timedelta(hours=10)
    assert a["value"] == pytest.approx(minutes_before) and a["threshold"] == 60.0
    assert f"friction score 7.0) was active {minutes_before} min before" in a["reason"]


def test_friction_before_contact_medium_below_high_score(con):
    sessions = [session("sid:s1", "2026-10-01 09:40:00", "2026-10-01 09:50:00", score=5.9)]
    (a,) = alerts(con, [contact("c1", 10)], sessions)
    assert a["severity"] == "medium"


def test_alert_ids_are_stable_across_reruns(con):
    contacts = [contact("c1", 10, escalation_requests=1, sentiment=(0.5, -0.6), customer_turns=4)]
    first = alerts(con, contacts, turn_spec={"c1": DROP_TURNS})
    second = run_query(con, "signals.friction_alerts", "signals/friction_alerts", [DAY])
    assert first == second
