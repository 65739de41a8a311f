"""Failure demand, time to value, defects and defect anomalies (docs/metrics.md) on hand-made rows."""

from datetime import date, datetime, timedelta

import pytest

from cx_signals.config import load_config
from tests.conftest import insert, run_query, session_row
from tests.unit.test_sql_metrics import DAY, contact, friction_session, outcomes
from tests.unit.test_sql_priorities import BASE, daily, history

T0 = datetime(2026, 10, 1)


def days(n: int, first: date = DAY) -> list[date]:
    return [first + timedelta(days=d) for d in range(n)]


def config(**sections) -> dict:
    """The defaults with `sections` (section -> {name: value}) merged over them."""
    return load_config().merged(sections)


def error_session(customer: str, start: datetime, key: str | None = None) -> dict:
    """A session of `customer` with one error (score 1.0: no friction) lasting 5 minutes."""
    return session_row(
        key or f"e-{customer}-{start:%d%H%M}", start, start + timedelta(minutes=5), customer, 1.0, n_events=3, errors=1
    )


# ---------------------------------------------------------------- failure demand


def test_every_contact_is_value_or_failure_demand_with_its_first_cause(con):
    rows = outcomes(
        con,
        [
            contact("value", 1, customer="v"),
            contact("first", 2, customer="c", disposition="unresolved"),
            contact("chasing", 26, customer="c", channel="voice"),  # a repeat of the open journey the next day
            contact("intent", 3, customer="i", intent="delivery_status"),
            contact("friction", 4, customer="f"),
            contact("error", 5, customer="e"),
            contact("error_and_intent", 6, customer="x", intent="payment_failed"),
            contact("late_error", 8, customer="l"),  # its error session ended 90 minutes before
        ],
        sessions=[
            friction_session("f", T0 + timedelta(hours=3, minutes=30)),
            error_session("e", T0 + timedelta(hours=4, minutes=40)),
            error_session("x", T0 + timedelta(hours=5, minutes=50)),
            error_session("l", T0 + timedelta(hours=6, minutes=25)),
        ],
        days=days(2),
    )
    classes = {c: (r["demand_class"], r["failure_demand_cause"]) for c, r in rows.items()}
    assert classes == {
        "value": ("value", None),
        "first": ("value", None),
        "chasing": ("failure", "chasing_open_journey"),
        "intent": ("failure", "failure_intent"),
        "friction": ("failure", "pre_contact_friction"),
        "error": ("failure", "pre_contact_error"),
        "error_and_intent": ("failure", "pre_contact_error"),  # the first cause in the documented order
        "late_error": ("value", None),
    }
    both = rows["error_and_intent"]
    assert both["pre_contact_error"] and both["failure_intent"] and not both["pre_contact_friction"]
    assert not rows["error"]["pre_contact_friction"]  # an error session without friction is an error, not friction

    fd = {
        (r["partition_date"], r["channel"], r["intent"]): r
        for r in run_query(con, "metrics.failure_demand", "metrics/failure_demand", days(2))
    }
    day1 = fd[(DAY, "all", "all")]
    assert (day1["contacts"], day1["failure_demand"]) == (7, 4)
    assert day1["failure_share"] == pytest.approx(4 / 7)
    assert day1["failure_share_low"] < 4 / 7 < day1["failure_share_high"]
    assert (day1["pre_contact_error"], day1["pre_contact_friction"], day1["failure_intent"]) == (2, 1, 1)
    day2 = fd[(DAY + timedelta(days=1), "all", "all")]
    assert (day2["contacts"], day2["failure_demand"], day2["chasing_open_journey"]) == (1, 1, 1)
    # the window sums both days before dividing
    assert (day2["window_contacts"], day2["window_failure_demand"]) == (8, 5)
    assert day2["window_failure_share"] == pytest.approx(5 / 8) and day2["window_start"] == DAY - timedelta(days=26)
    assert fd[(DAY + timedelta(days=1), "voice", "billing")]["failure_share"] == 1.0
    assert fd[(DAY, "chat", "delivery_status")]["failure_intent"] == 1


def test_failure_intents_come_from_the_config(con):
    insert(con, "signals.conversation_signals", [contact("a", 1, intent="delivery_status")])
    [row] = run_query(
        con, "metrics.contact_outcomes", "metrics/contact_outcomes", [DAY], config(failure_demand={"intents": []})
    )
    assert row["demand_class"] == "value" and not row["failure_intent"]


# ---------------------------------------------------------------- time to value


def purchase(customer: str, at: datetime) -> dict:
    return {
        "partition_date": at.date(),
        "event_id": f"p-{customer}-{at:%d%H}",
        "ts": at,
        "customer_key": customer,
        "anonymous_key": f"a-{customer}",
        "event_type": "purchase",
    }


def plain_session(customer: str | None, start: datetime) -> dict:
    return session_row(f"s-{customer}", start, start + timedelta(minutes=10), customer, 0.0, n_events=2)


def ttv(con, as_of: date, cfg: dict | None = None) -> dict:
    insert(con, "signals.conversation_signals", [contact("c2", 12, customer="k2")])
    run_query(con, "metrics.contact_outcomes", "metrics/contact_outcomes", [DAY])
    insert(
        con,
        "signals.session_friction",
        [
            plain_session("k1", T0 + timedelta(hours=10)),
            plain_session("k3", T0 + timedelta(days=1, hours=10)),
            plain_session(None, T0 + timedelta(days=3, hours=10)),  # anonymous: no start, but the day holds data
        ],
    )
    insert(
        con, "raw.events", [purchase("k1", T0 + timedelta(days=2, hours=10)), purchase("k3", T0 - timedelta(days=1))]
    )
    rows = run_query(con, "metrics.time_to_value", "metrics/time_to_value", [as_of], cfg)
    return {(r["journey"], r["channel"]): r for r in rows}


def test_time_to_value_keeps_open_customers_and_estimates_kaplan_meier_quantiles(con):
    rows = ttv(con, DAY + timedelta(days=3))
    everyone = rows[("all", "all")]
    assert everyone["cohort_week"] == date(2026, 9, 28)  # Monday of the start week
    assert (everyone["customers"], everyone["reached_value"], everyone["open_customers"]) == (3, 2, 1)
    # k2 resolved at 0.25 h (S = 2/3), k1 bought after 2 days (S = 1/3); k3 (a purchase before its start) is open
    assert everyone["median_days_to_value"] == pytest.approx(2.0)
    assert everyone["p90_days_to_value"] is None  # the estimate never falls to 0.1 while k3 is open
    assert everyone["observed_n_days"] == 0 and everyone["reached_within_n_days_share"] is None
    contact_start = rows[("billing", "chat")]
    assert contact_start["customers"] == 1 and contact_start["median_days_to_value"] == pytest.approx(0.25 / 24)
    digital = rows[("none", "digital")]
    assert (digital["customers"], digital["reached_value"]) == (2, 1)
    assert digital["median_days_to_value"] == pytest.approx(2.0)  # S: 1/2 at 2 days, k3 censored at 2.58


def test_time_to_value_as_of_an_earlier_day_and_within_n_days(con):
    rows = ttv(con, DAY + timedelta(days=1))  # k1's purchase is not seen yet: open
    everyone = rows[("all", "all")]
    assert (everyone["customers"], everyone["reached_value"]) == (3, 1)
    assert everyone["median_days_to_value"] is None  # 2 of 3 still without value

    con.execute("DELETE FROM metrics.time_to_value")
    rows = ttv(con, DAY + timedelta(days=3), config(time_to_value={"reached_within_days": 1}))
    everyone = rows[("all", "all")]
    # observed at least a day: all three; within a day: k2 only (k1 took two days)
    assert (everyone["observed_n_days"], everyone["reached_within_n_days"]) == (3, 1)
    assert everyone["reached_within_n_days_low"] < 1 / 3 < everyone["reached_within_n_days_high"]


# ---------------------------------------------------------------- defects


def telemetry(session_id: str, at: datetime, name: str | None = None, version: str = "5.4.0") -> dict:
    return {
        "partition_date": at.date(),
        "ts": at,
        "anonymous_key": "a",
        "session_id": session_id,
        "app": "web",
        "kind": "error" if name else "latency",
        "name": name or "render",
        "app_version": version,
    }


def defects(con, cfg: dict | None = None, n_days: int = 1) -> dict:
    run_query(con, "metrics.contact_outcomes", "metrics/contact_outcomes", days(n_days))
    rows = run_query(con, "metrics.defects", "metrics/defects", days(n_days), cfg)
    return {(r["partition_date"], r["defect_type"], r["defect"]): r for r in rows}


def test_defects_count_preceded_contacts_per_1000_touching_sessions(con):
    at = T0 + timedelta(hours=10)
    insert(
        con,
        "signals.session_friction",
        [
            error_session("k1", at, "sid:S1"),
            error_session("k2", at, "sid:S2"),
            error_session("k4", at, "sid:S4"),
            plain_session("k5", at),
            {**error_session("refused", at, "sid:S9"), "anonymous_key": "refused-device"},
        ],
    )
    con.execute("INSERT INTO audit.consent_refusals VALUES ('refused', TIMESTAMP '2026-10-02 00:00:00')")
    insert(
        con,
        "raw.telemetry",
        [
            telemetry("S1", at + timedelta(minutes=1), "TimeoutError"),
            telemetry("S2", at + timedelta(minutes=2), "TimeoutError", version="5.3.2"),
            telemetry("S4", at + timedelta(minutes=3), "TimeoutError"),
            telemetry("S9", at + timedelta(minutes=3), "TimeoutError"),  # a refusing customer's: not counted
        ],
    )
    insert(
        con,
        "signals.conversation_signals",
        [
            contact("after_error", 10.5, customer="k1"),  # 30 minutes after: preceded
            contact("too_late", 12, customer="k4"),  # 2 hours after: outside the 60-minute window
            contact("failure_intent", 13, customer="k3", intent="delivery_status"),
        ],
    )
    rows = defects(con)
    error = rows[(DAY, "error", "TimeoutError")]
    assert (error["contacts_preceded"], error["sessions_touched"]) == (1, 3)
    assert error["contacts_per_1000_sessions"] == pytest.approx(1000 / 3)
    assert (error["top_app_version"], error["top_app_version_share"]) == ("5.4.0", pytest.approx(2 / 3))
    new = rows[(DAY, "app_version", "5.4.0")]
    assert (new["contacts_preceded"], new["sessions_touched"]) == (1, 2)
    assert (DAY, "app_version", "5.3.2") not in rows  # touched but preceded no contact, then or before
    intent = rows[(DAY, "intent", "delivery_status")]
    assert (intent["contacts_preceded"], intent["sessions_touched"]) == (1, 4)  # every consented session of the day
    assert error["trend"] == "no_baseline" and error["baseline_days"] == 0


def test_defect_trend_against_the_previous_days(con):
    sessions, signals, records = [], [], []
    # day 0 holds data but no defect; TimeoutError precedes one contact on day 1 and three on day 2; PageCrash two
    # on day 1 and none on day 2
    planted = [(1, "TimeoutError"), (1, "PageCrash"), (1, "PageCrash"), *[(2, "TimeoutError")] * 3]
    for n, (day, name) in enumerate(planted):
        at = T0 + timedelta(days=day, hours=9 + n)
        sessions.append(error_session(f"k{n}", at, f"sid:S{n}"))
        records.append(telemetry(f"S{n}", at, name))
        signals.append(contact(f"c{n}", day * 24 + 9 + n + 0.5, customer=f"k{n}"))
    signals.append(contact("plain", 9, customer="p"))
    insert(con, "signals.session_friction", sessions)
    insert(con, "raw.telemetry", records)
    insert(con, "signals.conversation_signals", signals)
    rows = defects(con, config(defects={"min_contacts": 1}), n_days=3)
    day1, day2 = DAY + timedelta(days=1), DAY + timedelta(days=2)
    assert (DAY, "error", "TimeoutError") not in rows  # no contact preceded by it on the day or before
    assert rows[(day1, "error", "TimeoutError")]["trend"] == "new"
    rising = rows[(day2, "error", "TimeoutError")]
    assert (rising["contacts_preceded"], rising["baseline_days"], rising["baseline_contacts_per_day"]) == (3, 2, 0.5)
    assert rising["trend"] == "rising" and rising["change_pct"] == pytest.approx(500.0)
    fixed = rows[(day2, "error", "PageCrash")]
    assert fixed["contacts_preceded"] == 0 and fixed["baseline_contacts_per_day"] == 1.0 and fixed["trend"] == "falling"


def test_a_new_defect_is_an_anomaly_and_a_steady_one_is_not(con):
    spike = BASE + timedelta(days=14)
    insert(con, "metrics.daily_outcomes", [*history(), daily(spike, "chat", "billing", 60, 30)])
    steady = [
        {"partition_date": BASE + timedelta(days=i), "defect_type": "page", "defect": "/checkout",
         "contacts_preceded": 5 + i % 2, "sessions_touched": 50, "baseline_days": 0, "trend": "steady"}
        for i in range(15)
    ]  # fmt: skip
    new = {**steady[-1], "defect_type": "error", "defect": "PaymentSheetTimeout", "contacts_preceded": 8}
    insert(con, "metrics.defects", [*steady, new])
    result = run_query(con, "metrics.outcome_anomalies", "metrics/outcome_anomalies", [spike])
    found = {r["defect"]: r for r in result if r["metric"] == "defect_contacts"}
    assert set(found) == {"page:/checkout", "error:PaymentSheetTimeout"}
    planted = found["error:PaymentSheetTimeout"]
    assert (planted["value"], planted["baseline"], planted["baseline_days"], planted["channel"]) == (8, 0, 14, "all")
    assert planted["baseline_spread"] == 1.0 and planted["judged"] and planted["is_anomaly"]
    assert planted["direction"] == "up"
    assert found["page:/checkout"]["judged"] and not found["page:/checkout"]["is_anomaly"]
    assert {r["defect"] for r in result if r["metric"] != "defect_contacts"} == {"none"}


def test_time_to_value_writes_only_the_days_of_the_run_that_hold_data(con):
    # a run over days 1 and 4 (days 2 and 3 hold no data and are not its partitions)
    insert(con, "signals.session_friction", [plain_session("k1", T0 + timedelta(hours=10))])
    insert(con, "raw.events", [purchase("k1", T0 + timedelta(days=3, hours=10))])
    rows = run_query(con, "metrics.time_to_value", "metrics/time_to_value", [DAY, DAY + timedelta(days=3)])
    assert {r["partition_date"] for r in rows} == {DAY, DAY + timedelta(days=3)}
    last = next(r for r in rows if r["partition_date"] == DAY + timedelta(days=3) and r["journey"] == "all"
                and r["channel"] == "all")  # fmt: skip
    assert last["reached_value"] == 1 and last["median_days_to_value"] == pytest.approx(3.0)
