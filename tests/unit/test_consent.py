"""The consent rule, defined once (sql/setup/consent.sql): a refusal is sticky and covers all of the customer's data,
in every query and in the published file."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from cx_signals.bundled import project_dir
from cx_signals.db import ensure_schema, publish, replace_rows
from cx_signals.paths import database_files
from cx_signals.tables import all_tables, published_table
from tests.conftest import insert, run_query, session_row, ts, turn_and_score_rows
from tests.unit.test_sql_metrics import contact

DAY1, DAY2 = date(2026, 10, 1), date(2026, 10, 2)


def conversation(cid: str, customer: str, day: date, consent: bool) -> dict:
    start = datetime(day.year, day.month, day.day, 10)
    return {
        "partition_date": day,
        "conversation_id": cid,
        "customer_id": f"clear-{customer}",
        "customer_key": customer,
        "channel": "chat",
        "started_at": start,
        "ended_at": start + timedelta(minutes=10),
        "consent_analytics": consent,
    }


def with_turns(con: duckdb.DuckDBPyConnection, conversations: list[dict]) -> None:
    insert(con, "raw.conversations", conversations)
    for c in conversations:
        turns, scores = turn_and_score_rows(c["conversation_id"], [("customer", c["started_at"], None, "hi", 0.1)])
        insert(con, "raw.turns", turns)
        insert(con, "signals.turn_sentiment", scores)


def test_consent_analytics_is_read_in_one_place_only():
    root = project_dir("sql").parent
    readers = sorted(
        str(path.relative_to(root))
        for pattern in ("sql/**/*.sql", "dagster_defs/**/*.py")
        for path in root.glob(pattern)
        if "consent_analytics" in path.read_text(encoding="utf-8")
    )
    assert readers == ["sql/setup/consent.sql"]
    assert "consented(c.customer_key)" in (root / "sql/signals/turn_texts.sql").read_text(encoding="utf-8")
    assert "consented(c.customer_key)" in (root / "sql/models/intent_turns.sql").read_text(encoding="utf-8")
    assert not [p for p in root.glob("dagster_defs/**/*.py") if "refused_customers" in p.read_text(encoding="utf-8")]


def test_a_later_refusal_removes_the_conversations_the_customer_consented_to_from_signals(con):
    with_turns(
        con,
        [
            conversation("c1", "k1", DAY1, True),
            conversation("c2", "k1", DAY2, False),
            conversation("c3", "k2", DAY1, True),
        ],
    )
    rows = run_query(con, "signals.conversation_signals", "signals/conversation_signals", [DAY1, DAY2])
    assert [r["conversation_id"] for r in rows] == ["c3"]


def test_a_missing_consent_counts_as_a_refusal(con):
    with_turns(con, [{**conversation("c1", "k1", DAY1, True), "consent_analytics": None}])
    assert run_query(con, "signals.conversation_signals", "signals/conversation_signals", [DAY1]) == []


def test_metrics_and_journeys_leave_out_rows_written_before_a_refusal(con):
    # signals of day 1 were materialised while k1 still consented; k1 refuses on day 2
    insert(con, "signals.conversation_signals", [contact("c1", 10, customer="k1"), contact("c2", 11, customer="k2")])
    insert(con, "raw.conversations", [conversation("c9", "k1", DAY2, False)])
    outcomes = run_query(con, "metrics.contact_outcomes", "metrics/contact_outcomes", [DAY1])
    assert [r["customer_key"] for r in outcomes] == ["k2"]
    journeys = run_query(con, "signals.journeys", "signals/journeys", [DAY1])
    assert [r["customer_key"] for r in journeys] == ["k2"]
    stale = {**outcomes[0], "conversation_id": "c1", "customer_key": "k1", "chain_id": "c1"}
    insert(con, "metrics.contact_outcomes", [*outcomes, stale])
    (daily,) = run_query(con, "metrics.daily_outcomes", "metrics/daily_outcomes", [DAY1])
    assert daily["contacts"] == 1
    priorities = run_query(con, "metrics.journey_priorities", "metrics/journey_priorities", [DAY1])
    assert [(r["contacts"], r["customers"]) for r in priorities] == [(1, 1)]
    turns, _ = turn_and_score_rows("c1", [("agent", ts("2026-10-01 10:01:00"), None, "hello", 0.0)])
    insert(con, "raw.turns", [{**t, "agent_key": "agent-1"} for t in turns])
    assert run_query(con, "metrics.agent_daily", "metrics/agent_daily", [DAY1]) == []


def test_sessions_and_alerts_leave_out_a_refusing_customer_and_their_devices(con):
    insert(con, "raw.conversations", [conversation("c9", "k1", DAY2, False)])
    logged_in = {
        "partition_date": DAY1,
        "event_id": "e1",
        "ts": ts("2026-10-01 09:00:00"),
        "customer_key": "k1",
        "anonymous_key": "dev1",
        "event_type": "page_view",
    }
    help_views = [
        {**logged_in, "event_id": f"h{device}", "ts": ts("2026-10-01 12:02:00"), "customer_key": None}
        | {"anonymous_key": device, "event_type": "help_view", "page": "/help"}
        for device in ("dev1", "dev2")
    ]
    insert(con, "raw.events", [logged_in, *help_views])
    rage = {"first_rage_click_at": ts("2026-10-01 12:01:00"), "first_rage_click_page": "/checkout"}
    start, end = ts("2026-10-01 12:00:00"), ts("2026-10-01 12:10:00")
    sessions = [
        {**session_row(f"anon:{device}:1", start, end, None, 3.0, **rage), "anonymous_key": device}
        for device in ("dev1", "dev2")
    ]
    insert(con, "signals.session_friction", sessions)
    alerts = run_query(con, "signals.friction_alerts", "signals/friction_alerts", [DAY1])
    assert {a["subject_id"] for a in alerts if a["rule"] == "rage_then_help"} == {"anon:dev2:1"}
    # sessionising again leaves out the refusing customer's device, logged out too
    recomputed = run_query(con, "signals.session_friction", "signals/session_friction", [DAY1])
    assert {r["anonymous_key"] for r in recomputed} == {"dev2"}


def _fill(working: Path, rows: dict[str, list[dict]]) -> None:
    with duckdb.connect(str(working)) as con:
        ensure_schema(con)
        for table, table_rows in rows.items():
            replace_rows(con, table, sorted({r["partition_date"] for r in table_rows}), table_rows)


def _keys_in(path: Path) -> set[str]:
    """Every text value of every table of `path`."""
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute(
            "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
            "WHERE schema_name IN ('raw', 'signals', 'metrics', 'quarantine', 'audit') AND data_type = 'VARCHAR'"
        ).fetchall()
        return {
            value
            for schema, table, column in columns
            for (value,) in con.execute(f'SELECT DISTINCT "{column}" FROM "{schema}"."{table}"').fetchall()
            if value is not None
        }


def test_publishing_leaves_out_a_customer_who_refused_after_their_rows_were_written(tmp_path):
    files = database_files(tmp_path / "cx.duckdb")
    files.folder.mkdir()
    start, end = ts("2026-10-01 12:00:00"), ts("2026-10-01 12:10:00")
    turns, scores = turn_and_score_rows("c1", [("customer", ts("2026-10-01 10:00:00"), None, "hi", 0.1)])
    event = {"partition_date": DAY1, "ts": start, "event_type": "page_view"}
    rows = {
        "raw.conversations": [conversation("c1", "k1", DAY1, True), conversation("c2", "k2", DAY1, True)],
        "raw.turns": turns,
        "raw.events": [
            {**event, "event_id": "e1", "customer_key": "k1", "anonymous_key": "dev1"},
            {**event, "event_id": "e2", "customer_key": None, "anonymous_key": "dev1"},
            {**event, "event_id": "e3", "customer_key": "k2", "anonymous_key": "dev2"},
        ],
        "signals.turn_sentiment": scores,
        "signals.conversation_signals": [contact("c1", 10, customer="k1"), contact("c2", 11, customer="k2")],
        "signals.session_friction": [{**session_row("anon:dev1:1", start, end, None), "anonymous_key": "dev1"}],
        "signals.friction_alerts": [
            {"partition_date": DAY1, "alert_id": "a1", "rule": "rage_then_help", "subject_id": "anon:dev1:1"}
        ],
        "quarantine.rejects": [
            {"partition_date": DAY1, "source": "events", "customer_key": "k1", "payload": '{"customer_id": "x"}'}
        ],
    }
    _fill(files.working, rows)
    publish(files.working, files.published)
    refused = {"k1", "dev1", "c1", "anon:dev1:1", "a1"}
    assert refused <= _keys_in(files.published)

    _fill(files.working, {"raw.conversations": [conversation("c9", "k1", DAY2, False)]})
    publish(files.working, files.published)
    published = _keys_in(files.published)
    assert not (refused | {"c9", "e1", "e2"}) & published
    assert {"k2", "dev2", "c2", "e3"} <= published
    assert refused <= _keys_in(files.working)  # the working file keeps them (operations)


def test_the_published_variant_drops_clear_ids_and_working_only_fields():
    tables = all_tables()
    for name, table in tables.items():
        variant = published_table(table)
        if variant is None:
            continue
        identifiers = {f.name for f in table.checks if f.pii == "identifier"}
        assert not identifiers & set(variant.column_names), name
        assert {re.sub(r"_id$", "_key", i) for i in identifiers} <= set(variant.column_names), name
    assert "payload" in tables["quarantine.rejects"].column_names
    assert "payload" not in published_table(tables["quarantine.rejects"]).column_names
    assert published_table(tables["audit.consent_refusals"]) is None
    assert published_table(tables["audit.erasures"]).column_names == ["erased_at", "rows_removed", "requested_by"]
