"""Identity across sessions (sql/setup/identity.sql, used by sql/signals/session_friction.sql) on hand-made rows: a
device's logged-out sessions are its customer's when it logs in as exactly one customer within
sessions.identity_lookback_days days, and pre-contact friction, journeys, alerts and containment-with-quality then
see them; shared devices stay anonymous; a refusing customer's devices are left out everywhere. Also: error events
and error-severity telemetry count as errors."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from cx_signals.config import load_config
from tests.conftest import event_row, insert, run_query, ts
from tests.unit.test_sql_journeys import contact as journey_contact
from tests.unit.test_sql_metrics import contact as outcome_contact

DAY1, DAY2, DAY3 = date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 3)
LOOKBACK = load_config()["sessions"]["identity_lookback_days"]


def event(
    n: int,
    kind: str,
    at: datetime,
    device: str,
    customer: str | None = None,
    session: str | None = None,
    x: int | None = None,
    y: int | None = None,
) -> dict:
    return event_row(
        f"e-{device}-{n}", at, kind, anonymous_id=device, customer_key=customer, session_id=session, x=x, y=y
    )


def raging(at: str, device: str, customer: str | None = None, session: str | None = None) -> list[dict]:
    """A page view and two rage bursts (three clicks 200 ms apart on one spot, twice 5 s apart): friction score 6.0,
    had_friction (one burst alone is no friction)."""
    start = ts(at)
    rows = [event(0, "page_view", start, device, customer, session)]
    for n in range(6):
        rows.append(
            event(
                n + 1,
                "click",
                start + timedelta(seconds=5 + 5 * (n // 3), milliseconds=200 * (n % 3)),
                device,
                customer,
                session,
                x=100,
                y=100,
            )
        )
    return [{**r, "event_id": f"{r['event_id']}-{at}"} for r in rows]


def login(at: str, device: str, customer: str, session: str | None = None) -> dict:
    """A logged-in page view: an event carrying both the device's and the customer's key."""
    return {**event(9, "page_view", ts(at), device, customer, session), "event_id": f"login-{device}-{at}"}


def sessions(con, events, days, telemetry=(), config=None) -> dict[str, dict]:
    insert(con, "raw.events", list(events))
    if telemetry:
        insert(con, "raw.telemetry", list(telemetry))
    rows = run_query(con, "signals.session_friction", "signals/session_friction", list(days), config)
    return {r["session_key"]: r for r in rows}


def telemetry(
    at: str, device: str, customer: str | None, session: str | None, kind: str = "api_call", severity: str | None = None
) -> dict:
    moment = ts(at)
    return {
        "partition_date": moment.date(),
        "ts": moment,
        "anonymous_id": device,
        "anonymous_key": device,
        "customer_key": customer,
        "session_id": session,
        "app": "web",
        "kind": kind,
        "name": "x",
        "severity": severity,
    }


def refusal(customer: str, day: date) -> dict:
    start = datetime(day.year, day.month, day.day, 8)
    return {
        "partition_date": day,
        "conversation_id": f"refusal-{customer}",
        "customer_id": f"clear-{customer}",
        "customer_key": customer,
        "channel": "chat",
        "started_at": start,
        "ended_at": start + timedelta(minutes=5),
        "consent_analytics": False,
    }


# --- the headline case: logged out on day 1, logged in on day 2 -------------------------------------------------


def test_a_day_1_logged_out_session_is_pre_contact_friction_for_a_day_2_contact_once_the_device_logs_in(con):
    # the visitor rages at 23:30 on day 1 without logging in, calls at 00:10 on day 2 (identified by the help desk),
    # and logs in on the website at 09:00 on day 2
    events = [*raging("2026-10-01 23:30:00", "dev1", session="s-anon"), login("2026-10-02 09:00:00", "dev1", "k1")]
    rows = sessions(con, events, [DAY1, DAY2])
    anon = rows["sid:s-anon"]
    assert (anon["customer_key"], anon["customer_key_source"], anon["had_friction"]) == ("k1", "device", True)
    assert rows["anon:dev1:login-dev1-2026-10-02 09:00:00"]["customer_key_source"] == "session"

    call = {**journey_contact("c1", 24 + 10 / 60, channel="voice"), "customer_key": "k1"}
    insert(con, "signals.conversation_signals", [call])
    (journey,) = run_query(con, "signals.journeys", "signals/journeys", [DAY2])
    assert journey["pre_contact_friction"] and journey["failure_demand_contacts"] == 1
    assert (journey["sessions_before"], journey["first_friction_at"]) == (1, ts("2026-10-01 23:30:00"))
    (outcome,) = run_query(con, "metrics.contact_outcomes", "metrics/contact_outcomes", [DAY2])
    assert outcome["pre_contact_friction"]
    (alert,) = run_query(con, "signals.friction_alerts", "signals/friction_alerts", [DAY2])
    assert (alert["rule"], alert["subject_id"]) == ("friction_before_contact", "c1")
    assert "sid:s-anon" in alert["reason"]


def test_without_the_later_login_the_same_session_is_anonymous_and_not_pre_contact_friction(con):
    rows = sessions(con, raging("2026-10-01 23:30:00", "dev1", session="s-anon"), [DAY1, DAY2])
    assert (rows["sid:s-anon"]["customer_key"], rows["sid:s-anon"]["customer_key_source"]) == (None, "none")
    insert(con, "signals.conversation_signals", [journey_contact("c1", 24 + 10 / 60)])
    (journey,) = run_query(con, "signals.journeys", "signals/journeys", [DAY2])
    assert not journey["pre_contact_friction"] and journey["sessions_before"] == 0


def test_a_stitched_session_after_a_contained_contact_breaks_containment_with_quality(con):
    # a bot-contained chat at 10:00 on day 1, friction two hours later logged out; the device logged in on day 1
    events = [login("2026-10-01 08:00:00", "dev1", "k1"), *raging("2026-10-01 12:30:00", "dev1", session="s-after")]
    assert sessions(con, events, [DAY1])["sid:s-after"]["customer_key"] == "k1"
    insert(con, "signals.conversation_signals", [outcome_contact("c1", 10, bot=2)])
    (outcome,) = run_query(con, "metrics.contact_outcomes", "metrics/contact_outcomes", [DAY1])
    assert outcome["contained"] and outcome["cwq_failed_friction"] and not outcome["contained_with_quality"]


def test_the_device_logged_in_before_the_session_counts_too(con):
    events = [login("2026-10-01 09:00:00", "dev1", "k1"), *raging("2026-10-03 12:00:00", "dev1", session="later")]
    rows = sessions(con, events, [DAY1, DAY2, DAY3])
    assert (rows["sid:later"]["customer_key"], rows["sid:later"]["customer_key_source"]) == ("k1", "device")


def test_a_login_is_an_event_or_a_telemetry_record_carrying_both_keys(con):
    rows = sessions(
        con,
        raging("2026-10-01 12:00:00", "dev1", session="web"),
        [DAY1],
        telemetry=[telemetry("2026-10-01 18:00:00", "dev1", "k1", None)],
    )
    assert (rows["sid:web"]["customer_key"], rows["sid:web"]["customer_key_source"]) == ("k1", "device")


def test_the_sessions_own_telemetry_names_its_customer_before_the_device_does(con):
    rows = sessions(
        con,
        [*raging("2026-10-01 12:00:00", "dev1", session="app"), login("2026-10-01 20:00:00", "dev1", "k1")],
        [DAY1],
        telemetry=[telemetry("2026-10-01 12:00:01", "dev1", "k2", "app")],
    )
    assert (rows["sid:app"]["customer_key"], rows["sid:app"]["customer_key_source"]) == ("k2", "session")


def test_a_session_with_two_logins_is_the_last_ones(con):
    events = [login("2026-10-01 12:00:00", "dev1", "zz", "s1"), login("2026-10-01 12:05:00", "dev1", "aa", "s1")]
    assert sessions(con, events, [DAY1])["sid:s1"]["customer_key"] == "aa"


@pytest.mark.parametrize(("days_later", "stitched"), [(LOOKBACK, True), (LOOKBACK + 1, False)])
def test_the_lookback_is_counted_in_days_either_side(con, days_later, stitched):
    later = datetime(2026, 10, 1, 9) + timedelta(days=days_later)
    events = [*raging("2026-10-01 23:50:00", "dev1", session="s"), login(f"{later:%Y-%m-%d %H:%M:%S}", "dev1", "k1")]
    row = sessions(con, events, [DAY1])["sid:s"]
    assert row["customer_key"] == ("k1" if stitched else None)


def test_a_lookback_of_0_stitches_within_the_sessions_day_only(con):
    config = load_config().merged({"sessions": {"identity_lookback_days": 0}})
    events = [
        *raging("2026-10-01 12:00:00", "dev1", session="same-day"),
        *raging("2026-10-02 12:00:00", "dev1", session="next-day"),
        login("2026-10-01 20:00:00", "dev1", "k1"),
    ]
    rows = sessions(con, events, [DAY1, DAY2], config=config)
    assert rows["sid:same-day"]["customer_key"] == "k1"
    assert (rows["sid:next-day"]["customer_key"], rows["sid:next-day"]["customer_key_source"]) == (None, "none")


# --- shared devices -----------------------------------------------------------------------------------------------


def test_a_device_shared_by_two_customers_stitches_to_neither(con):
    # k1 logs in on day 1, k2 on day 3; the logged-out session of day 2 could be either's
    events = [
        login("2026-10-01 09:00:00", "family-pc", "k1", "s-k1"),
        *raging("2026-10-02 21:00:00", "family-pc", session="s-anon"),
        login("2026-10-03 19:00:00", "family-pc", "k2", "s-k2"),
    ]
    rows = sessions(con, events, [DAY1, DAY2, DAY3])
    assert (rows["sid:s-anon"]["customer_key"], rows["sid:s-anon"]["customer_key_source"]) == (None, "shared_device")
    # their own logged-in sessions stay theirs
    assert (rows["sid:s-k1"]["customer_key"], rows["sid:s-k2"]["customer_key"]) == ("k1", "k2")
    # and the friction of the shared session is nobody's pre-contact friction
    insert(
        con,
        "signals.conversation_signals",
        [journey_contact("c1", 24 + 21.5, customer="k1"), journey_contact("c2", 24 + 21.5, customer="k2")],
    )
    journeys = run_query(con, "signals.journeys", "signals/journeys", [DAY2])
    assert [(j["customer_key"], j["pre_contact_friction"]) for j in journeys] == [("k1", False), ("k2", False)]


def test_a_second_customer_outside_the_lookback_does_not_make_the_device_shared(con):
    far = datetime(2026, 10, 2, 9) + timedelta(days=LOOKBACK + 1)
    events = [
        login("2026-10-02 09:00:00", "dev1", "k1"),
        *raging("2026-10-01 12:00:00", "dev1", session="s"),
        login(f"{far:%Y-%m-%d %H:%M:%S}", "dev1", "k2"),
    ]
    assert sessions(con, events, [DAY1])["sid:s"]["customer_key"] == "k1"


def test_device_customers_counts_the_customers_of_each_device_around_each_day(con):
    insert(
        con,
        "raw.events",
        [
            login("2026-10-01 09:00:00", "d1", "k1"),
            login("2026-10-03 09:00:00", "d1", "k2"),
            login("2026-10-03 10:00:00", "d2", "k3"),
        ],
    )
    rows = con.execute(
        "SELECT day, anonymous_key, customers, customer_key FROM device_customers(?, ?, 1) ORDER BY ALL", [DAY1, DAY3]
    ).fetchall()
    assert rows == [
        (DAY1, "d1", 1, "k1"),
        (DAY2, "d1", 2, None),
        (DAY2, "d2", 1, "k3"),
        (DAY3, "d1", 1, "k2"),
        (DAY3, "d2", 1, "k3"),
    ]


# --- consent ------------------------------------------------------------------------------------------------------


def test_a_refusing_customers_device_is_left_out_with_its_logged_out_sessions(con):
    insert(con, "raw.conversations", [refusal("k9", DAY3)])
    events = [
        *raging("2026-10-01 23:30:00", "dev9", session="anon9"),
        login("2026-10-02 09:00:00", "dev9", "k9"),
        *raging("2026-10-01 23:30:00", "dev1", session="anon1"),
        login("2026-10-02 09:00:00", "dev1", "k1"),
    ]
    rows = sessions(con, events, [DAY1, DAY2])
    assert {r["anonymous_key"] for r in rows.values()} == {"dev1"}
    insert(con, "signals.conversation_signals", [journey_contact("c9", 24 + 10 / 60, customer="k9")])
    assert run_query(con, "signals.journeys", "signals/journeys", [DAY2]) == []


def test_a_device_shared_with_a_refusing_customer_is_left_out_for_everyone(con):
    insert(con, "raw.conversations", [refusal("k9", DAY1)])
    events = [
        login("2026-10-01 09:00:00", "shared", "k1", "s-k1"),
        login("2026-10-01 10:00:00", "shared", "k9", "s-k9"),
        *raging("2026-10-01 12:00:00", "shared", session="s-anon"),
    ]
    assert sessions(con, events, [DAY1]) == {}


# --- errors -------------------------------------------------------------------------------------------------------


def test_error_events_and_error_severity_telemetry_count_as_errors_and_make_error_clicks(con):
    click = ts("2026-10-01 12:00:00")
    events = [
        event(0, "page_view", click - timedelta(seconds=5), "dev1", "k1", "s1"),
        event(1, "click", click, "dev1", "k1", "s1", x=10, y=10),
        event(2, "error", click + timedelta(milliseconds=300), "dev1", "k1", "s1"),
        event(3, "click", click + timedelta(seconds=30), "dev1", "k1", "s1", x=10, y=10),
    ]
    logs = [
        telemetry("2026-10-01 12:00:30.500", "dev1", "k1", "s1", kind="log", severity="error"),
        telemetry("2026-10-01 12:01:00", "dev1", "k1", "s1", kind="log", severity="fatal"),
        telemetry("2026-10-01 12:01:10", "dev1", "k1", "s1", kind="log", severity="warn"),
        telemetry("2026-10-01 12:01:20", "dev1", "k1", "s1", kind="error", severity=None),
    ]
    row = sessions(con, events, [DAY1], telemetry=logs)["sid:s1"]
    assert (row["errors"], row["crashes"], row["error_clicks"]) == (3, 1, 2)


def test_an_anonymous_sessions_key_is_the_same_whichever_days_are_computed_together(con):
    # three sessions of one device without a session id, a day apart: computed together or a day at a time, each
    # keeps one key and no two share one (numbered within the days read, the third day's alone was "...:2", the
    # second day's key)
    days = [DAY1, DAY2, DAY3]
    events = [e for day in days for e in raging(f"{day} 10:00:00", "dev1")]
    together = set(sessions(con, events, days))
    apart = [key for day in days for key in run_keys(con, [day])]
    assert len(together) == 3
    assert sorted(apart) == sorted(together)


def run_keys(con, days) -> list[str]:
    rows = run_query(con, "signals.session_friction", "signals/session_friction", days)
    return [r["session_key"] for r in rows if r["partition_date"] in days]
