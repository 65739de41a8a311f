"""The shared table macros on hand-made rows: session_records() (sql/setup/macros.sql), which ties raw events and
telemetry to sessions for signals.session_friction and metrics.defects, and trailing_alerts() (sql/setup/contacts.sql),
the window of alerts that metrics.alert_rule_precision and metrics.intervention_effects judge."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cx_signals.db import ensure_schema
from tests.conftest import insert
from tests.unit.test_sql_interventions import alert

T0 = datetime(2026, 10, 1, 12, 0)
DAY1 = date(2026, 10, 1)

SESSIONS = """sessions AS (
    SELECT * FROM (VALUES
        ('sid:s1', 'a1', TIMESTAMP '2026-10-01 12:00', TIMESTAMP '2026-10-01 12:30'),
        ('anon:a1:1', 'a1', TIMESTAMP '2026-10-01 10:00', TIMESTAMP '2026-10-01 10:20'),
        ('anon:a1:2', 'a1', TIMESTAMP '2026-10-01 11:00', TIMESTAMP '2026-10-01 11:10'),
        ('anon:a2:1', 'a2', TIMESTAMP '2026-10-01 10:00', TIMESTAMP '2026-10-01 10:20')
    ) AS s (session_key, anonymous_key, session_start, session_end)
)"""


@pytest.fixture(scope="module")
def macros() -> duckdb.DuckDBPyConnection:
    """One database with every macro, for the queries that only read their own rows."""
    connection = duckdb.connect()
    ensure_schema(connection)
    return connection


def test_a_record_is_its_session_ids_session_else_its_devices_session_holding_its_time(macros):
    rows = macros.execute(f"""
        WITH {SESSIONS},
        records AS (
            SELECT * FROM (VALUES
                ('by id', 's1', 'a9', TIMESTAMP '2026-10-01 09:00'),
                ('unknown id', 's9', 'a1', TIMESTAMP '2026-10-01 10:05'),
                ('first visit', NULL, 'a1', TIMESTAMP '2026-10-01 10:00'),
                ('first visit end', NULL, 'a1', TIMESTAMP '2026-10-01 10:20'),
                ('second visit', NULL, 'a1', TIMESTAMP '2026-10-01 11:05'),
                ('between visits', NULL, 'a1', TIMESTAMP '2026-10-01 10:40'),
                ('other device', NULL, 'a2', TIMESTAMP '2026-10-01 10:05'),
                ('no device', NULL, NULL, TIMESTAMP '2026-10-01 10:05')
            ) AS r (record, session_id, anonymous_key, ts)
        )
        SELECT session_key, record, session_id FROM session_records('sessions', 'records') ORDER BY ALL
    """).fetchall()
    assert rows == [
        ("anon:a1:1", "first visit", None),
        ("anon:a1:1", "first visit end", None),
        ("anon:a1:2", "second visit", None),
        ("anon:a2:1", "other device", None),
        # a session id decides alone: wherever and whenever the record was, and even when no session has that id
        ("sid:s1", "by id", "s1"),
    ]


def _reference(con: duckdb.DuckDBPyConnection) -> Counter:
    """The attribution as the docs state it, in two joins (the form session_records() replaced)."""
    return Counter(
        con.execute("""
        SELECT s.session_key, r.n FROM records AS r JOIN sessions AS s ON s.session_key = 'sid:' || r.session_id
        WHERE r.session_id IS NOT NULL
        UNION ALL
        SELECT s.session_key, r.n FROM records AS r
        JOIN sessions AS s
          ON s.anonymous_key = r.anonymous_key AND starts_with(s.session_key, 'anon:')
         AND r.ts BETWEEN s.session_start AND s.session_end
        WHERE r.session_id IS NULL
    """).fetchall()
    )


KEYS = st.sampled_from(["x", "y", "z"])
SESSION = st.one_of(
    st.tuples(st.just("sid"), KEYS, KEYS, st.integers(0, 30), st.integers(0, 30)),
    st.tuples(st.just("anon"), KEYS, KEYS, st.integers(0, 30), st.integers(0, 30)),
)
RECORD = st.tuples(st.none() | KEYS, st.none() | KEYS, st.integers(0, 30))


@settings(max_examples=150, deadline=None)
@given(st.lists(SESSION, max_size=6), st.lists(RECORD, max_size=12))
def test_session_records_pairs_what_the_two_join_attribution_pairs(macros, sessions, records):
    con = macros.cursor()
    session_rows = [
        (
            f"sid:{key}" if kind == "sid" else f"anon:{device}:{n}",
            device,
            T0 + timedelta(minutes=a),
            T0 + timedelta(minutes=max(a, b)),
        )
        for n, (kind, key, device, a, b) in enumerate(sessions)
    ]
    record_rows = [(n, sid, device, T0 + timedelta(minutes=m)) for n, (sid, device, m) in enumerate(records)]
    con.execute(
        "CREATE TEMP TABLE sessions (session_key VARCHAR, anonymous_key VARCHAR, session_start TIMESTAMP, "
        "session_end TIMESTAMP)"
    )
    con.execute("CREATE TEMP TABLE records (n INTEGER, session_id VARCHAR, anonymous_key VARCHAR, ts TIMESTAMP)")
    if session_rows:
        con.executemany("INSERT INTO sessions VALUES (?, ?, ?, ?)", session_rows)
    if record_rows:
        con.executemany("INSERT INTO records VALUES (?, ?, ?, ?)", record_rows)
    try:
        found = Counter(con.execute("SELECT session_key, n FROM session_records('sessions', 'records')").fetchall())
        assert found == _reference(con)
    finally:
        con.execute("DROP TABLE sessions")
        con.execute("DROP TABLE records")


def test_trailing_alerts_hold_each_alert_day_s_window_of_consented_alerts(con):
    day = [DAY1 + timedelta(days=n) for n in range(6)]
    at = [datetime(d.year, d.month, d.day, 9) for d in day]
    insert(
        con,
        "raw.conversations",
        [
            {
                "partition_date": DAY1,
                "conversation_id": "c-refused",
                "customer_id": "clear-k9",
                "customer_key": "k9",
                "channel": "chat",
                "started_at": at[0],
                "ended_at": at[0],
                "consent_analytics": False,
            }
        ],
    )
    anonymous = {
        **alert("none", False, at=at[3]),
        "alert_id": "anonymous",
        "subject_type": "session",
        "journey_id": None,
        "customer_key": None,
    }
    insert(
        con,
        "signals.friction_alerts",
        [
            alert("j0", False, at=at[0]),
            alert("j1", True, at=at[1]),
            alert("j2", False, at=at[2]),
            alert("refused", False, at=at[3], customer="k9"),
            anonymous,
            alert("j5", False, at=at[5]),
        ],
    )
    rows = con.execute("""
        SELECT as_of, alert_id, held_out FROM trailing_alerts(DATE '2026-10-03', DATE '2026-10-06', 2) ORDER BY ALL
    """).fetchall()
    # day[4] has no alert of its own, so it is no as_of; the refusing customer's alert is left out, the anonymous one
    # kept; each day holds its own alerts and the day before's
    assert rows == [
        (day[2], "a-friction_before_contact-j1", True),
        (day[2], "a-friction_before_contact-j2", False),
        (day[3], "a-friction_before_contact-j2", False),
        (day[3], "anonymous", False),
        (day[5], "a-friction_before_contact-j5", False),
    ]
