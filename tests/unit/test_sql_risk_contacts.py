"""sql/models/risk_contacts.sql: which operators' action each contact's acted_at names (docs/metrics.md)."""

from datetime import date, timedelta

from cx_signals.db import bind, sql_text
from tests.conftest import insert
from tests.unit.test_sql_interventions import T0, action, outcome


def acted_at(con, first: date, last: date) -> dict[str, object]:
    sql = sql_text("models/risk_contacts")
    rows = con.execute(sql, bind(sql, {"start_date": first, "end_date": last})).fetchall()
    names = [d[0] for d in con.description]
    return {row[names.index("conversation_id")]: row[names.index("acted_at")] for row in rows}


def test_acted_at_is_the_first_action_on_the_journey_between_the_contact_and_the_next(con):
    day = timedelta(days=1)
    contacts = [
        outcome("C1", "C1", T0, 5.0),
        outcome("C2", "C1", T0 + day, 5.0),  # C1's journey continues: C1's actions stop at C2's start
        outcome("C3", "C3", T0 + timedelta(hours=3), 5.0, customer="k2"),
        outcome("C4", "C4", T0 + 2 * day, 5.0, customer="k3"),
        outcome("C5", "C5", T0, 5.0, customer="k4"),
        outcome("C6", "C5", T0 + timedelta(hours=6), 5.0, customer="k4"),
    ]
    insert(con, "metrics.contact_outcomes", contacts)
    insert(con, "signals.conversation_signals", [{"partition_date": c["partition_date"], "conversation_id":
            c["conversation_id"]} for c in contacts])  # fmt: skip
    insert(con, "raw.actions", [
        action("A1", T0 + timedelta(hours=3), journey_id="C1"),  # by journey, after C1: C1's
        action("A2", T0 + timedelta(hours=5), conversation_id="C1"),  # by conversation, later: not the first
        action("A3", T0 + day + timedelta(hours=2), conversation_id="C2"),  # after C2's start: C2's, not C1's
        action("A4", T0, journey_id="C3"),  # before C3 started: not an action on it
        action("A5", T0 + 3 * day, journey_id="C4"),  # on the day after the last read: still found
        action("A6", T0 + timedelta(hours=7), conversation_id="C6"),  # follows C6, not C5, on the same journey
    ])  # fmt: skip
    found = acted_at(con, T0.date(), (T0 + 2 * day).date())
    assert found == {
        "C1": T0 + timedelta(hours=3),
        "C2": T0 + day + timedelta(hours=2),
        "C3": None,
        "C4": T0 + 3 * day,
        "C5": None,
        "C6": T0 + timedelta(hours=7),
    }
