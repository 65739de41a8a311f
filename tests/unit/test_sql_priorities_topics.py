"""Emerging topics listed among the journey priorities (sql/metrics/journey_priorities.sql) on hand-made rows."""

import json
from datetime import timedelta

import pytest

from tests.conftest import insert, run_query
from tests.unit.test_sql_priorities import DAY, outcome, priorities_fixture

TOPIC = "topic-0123456789"


def topic_outcomes() -> list[dict]:
    """12 contacts behind the topic in the window, all handed off and repeated, at 3.0 each, and one 30 days old."""
    rows = [
        outcome(f"u{i}", DAY - timedelta(days=i % 10), "unknown", handoffs=1, repeat=True, cost=3.0) for i in range(12)
    ]
    return [*rows, outcome("u_old", DAY - timedelta(days=30), "unknown", handoffs=1, cost=3.0)]


def topic_rows(members: list[dict]) -> tuple[list[dict], list[dict]]:
    topic = {
        "partition_date": DAY,
        "topic_id": TOPIC,
        "label": "parcel / locker / code",
        "size": 8,
        "size_previous_week": 4,
        "growth": 1.0,
        "first_seen": DAY - timedelta(days=3),
        "is_new": False,
        "top_terms": json.dumps(["parcel", "locker", "code"]),
        "centroid_terms": json.dumps({"parcel": 1.0}),
        "candidates": 13,
        "clustered": 13,
    }
    contacts = [
        {
            "partition_date": DAY,
            "topic_id": TOPIC,
            "conversation_id": m["conversation_id"],
            "contact_date": m["partition_date"],
            "in_current_week": True,
            "similarity": 0.5,
        }
        for m in members
    ]
    return [topic], contacts


def priorities(con) -> dict[tuple[str, str], dict]:
    rows = run_query(con, "metrics.journey_priorities", "metrics/journey_priorities", [DAY])
    return {(r["kind"], r["intent"]): r for r in rows}


def test_emerging_topics_are_listed_beside_intents_without_moving_them(con):
    members = topic_outcomes()
    insert(con, "metrics.contact_outcomes", priorities_fixture() + members)
    before = priorities(con)
    topics, contacts = topic_rows(members)
    insert(con, "signals.emerging_topics", topics)
    insert(con, "signals.emerging_topic_contacts", contacts)
    after = priorities(con)

    assert set(after) == set(before) | {("emerging_topic", TOPIC)}
    for key, row in before.items():
        assert row["kind"] == "intent" and row["topic_label"] is None
        assert (after[key]["score"], after[key]["rank"]) == (row["score"], row["rank"])
    topic = after[("emerging_topic", TOPIC)]
    assert topic["contacts"] == 12  # the member 30 days old is outside the window
    assert (topic["topic_label"], topic["topic_size"], topic["topic_growth"]) == ("parcel / locker / code", 8, 1.0)
    assert topic["handoff_rate"] == 1.0 and topic["repeat_rate"] == 1.0
    assert topic["scored"] and topic["rank"] is None
    # above every intent on handoff rate (1.0 > delivery's 0.8): clamped to the top of the intents' range
    assert topic["handoffs_score"] == pytest.approx((1.0 + 0.0) / 2)
    assert 0 <= topic["score"] <= 1
    # its contacts still count under their own intent
    assert after[("intent", "unknown")]["contacts"] == 12
