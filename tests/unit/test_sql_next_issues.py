"""metrics.next_issues and metrics.intent_transitions (docs/metrics.md) on hand-made contacts."""

from datetime import date, datetime, timedelta

import pytest

from cx_signals.config import load_config
from tests.conftest import insert, run_query, signals_row

DAY = date(2026, 10, 1)
WINDOW = load_config().next_issues.window_days
TRANSITIONS_WINDOW = load_config().next_issues.transitions_window_days


def contact(cid: str, hours_after: float, intent: str | None, customer: str = "k1", predicted: bool = False) -> dict:
    """A 15-minute contact of `customer` starting `hours_after` hours after DAY's midnight."""
    started = datetime(2026, 10, 1) + timedelta(hours=hours_after)
    return signals_row(cid, started, 0.25, customer_key=customer, labelled_intent=None if predicted else intent)


def load(con, contacts: list[dict], predictions: dict[str, str] | None = None) -> None:
    insert(con, "signals.conversation_signals", contacts)
    if predictions:
        by_id = {c["conversation_id"]: c for c in contacts}
        rows = [
            {"partition_date": by_id[cid]["partition_date"], "conversation_id": cid, "predicted_intent": intent}
            for cid, intent in predictions.items()
        ]
        insert(con, "signals.intent_predictions", rows)


def days(n: int) -> list[date]:
    return [DAY + timedelta(days=d) for d in range(n)]


def test_next_issue_is_another_known_intent_within_the_window_from_the_end(con):
    load(
        con,
        [
            contact("billing_1", 0, "billing"),
            contact("delivery_1", 1, "delivery"),  # billing_1's next issue, 45 minutes after its end
            contact("billing_2", 2, "billing"),  # delivery_1's next issue
            contact("refund_late", 2 + 24 * WINDOW + 1, "refund"),  # more than R days after billing_2's end
            contact("other_customer", 3, "refund", customer="k2"),
            contact("k2_unknown", 4, None, customer="k2"),  # unknown: neither a next issue nor one's source
            contact("k3_first", 0, "billing", customer="k3"),
            contact("k3_predicted", 5, "returns", customer="k3", predicted=True),  # model intent counts
        ],
        predictions={"k3_predicted": "returns"},
    )
    rows = run_query(con, "metrics.next_issues", "metrics/next_issues", days(WINDOW + 2))
    by_key = {(r["partition_date"], r["intent"]): r for r in rows}
    billing = by_key[(DAY, "billing")]
    assert billing["contacts"] == 3  # billing_1, billing_2, k3_first
    assert billing["next_issue_contacts"] == 2  # billing_1 -> delivery, k3_first -> returns; billing_2's is too late
    assert billing["next_issue_rate"] == pytest.approx(2 / 3)
    assert billing["next_issue_rate_low"] < 2 / 3 < billing["next_issue_rate_high"]
    assert billing["top_next_intent"] == "delivery"  # tie of one each: alphabetical
    assert billing["top_next_contacts"] == 1
    assert billing["window_days"] == WINDOW
    delivery = by_key[(DAY, "delivery")]
    assert delivery["next_issue_contacts"] == 1 and delivery["top_next_intent"] == "billing"
    assert delivery["hours_to_next_issue_median"] == pytest.approx(0.75)
    assert by_key[(DAY, "refund")]["next_issue_contacts"] == 0  # k2's later contact is unknown
    assert by_key[(DAY, "refund")]["top_next_intent"] is None
    assert by_key[(DAY, "unknown")]["next_issue_contacts"] == 0


def test_window_is_a_parameter(con):
    load(con, [contact("a", 0, "billing"), contact("b", 24 * 2, "delivery")])
    config = load_config().merged({"next_issues": {"window_days": 1}})
    rows = run_query(con, "metrics.next_issues", "metrics/next_issues", days(3), config)
    assert {r["intent"]: r["next_issue_contacts"] for r in rows} == {"billing": 0, "delivery": 0}
    rows = run_query(con, "metrics.next_issues", "metrics/next_issues", days(3))
    assert {r["intent"]: r["next_issue_contacts"] for r in rows} == {"billing": 1, "delivery": 0}


def test_intent_transitions_count_the_first_next_issue_over_the_trailing_window(con):
    load(
        con,
        [
            contact("b1", 0, "billing"),
            contact("d1", 1, "delivery"),
            contact("r1", 2, "refund"),  # b1's second later intent: only the first (d1) counts for b1
            contact("b2", 0, "billing", customer="k2"),
            contact("r2", 5, "refund", customer="k2"),
            contact("b3", 0, "billing", customer="k3"),  # no next issue
            contact("b4", 24 + 0, "billing", customer="k4"),  # the next day
            contact("r4", 24 + 3, "refund", customer="k4"),
        ],
    )
    rows = run_query(con, "metrics.intent_transitions", "metrics/intent_transitions", days(2))
    first = {(r["from_intent"], r["to_intent"]): r for r in rows if r["partition_date"] == DAY}
    assert set(first) == {("billing", "delivery"), ("billing", "refund"), ("delivery", "refund")}
    assert first[("billing", "delivery")]["transitions"] == 1
    assert first[("billing", "delivery")]["from_contacts"] == 3
    assert first[("billing", "delivery")]["share_of_contacts"] == pytest.approx(1 / 3)
    assert first[("billing", "delivery")]["share_of_next_issues"] == pytest.approx(1 / 2)
    second = {(r["from_intent"], r["to_intent"]): r for r in rows if r["partition_date"] == DAY + timedelta(days=1)}
    # the trailing window of the second day holds both days' contacts
    assert second[("billing", "refund")]["transitions"] == 2
    assert second[("billing", "refund")]["from_contacts"] == 4
    assert second[("billing", "refund")]["window_start"] == DAY + timedelta(days=2 - TRANSITIONS_WINDOW)
    shares = [r["share_of_next_issues"] for k, r in second.items() if k[0] == "billing"]
    assert sum(shares) == pytest.approx(1.0)


def test_next_issues_pairs_contacts_by_a_hash_join_on_the_customer(con):
    # a LEFT JOIN whose ON held a condition on the left side alone made DuckDB compare every contact with every later
    # one: 144 s of a 30-day x 50,000-customer run, and the 90-day x 150,000 run never finished the step
    load(con, [contact("billing_1", 0, "billing"), contact("delivery_1", 30, "delivery")])
    plan = "\n".join(row[1] for row in con.execute("EXPLAIN SELECT * FROM next_issues(?, ?, 7)", [DAY, DAY]).fetchall())
    assert "HASH_JOIN" in plan
    assert not any(nested in plan for nested in ("NESTED_LOOP", "BLOCKWISE_NL", "CROSS_PRODUCT")), plan
