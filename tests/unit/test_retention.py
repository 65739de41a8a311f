"""Retention: old partitions leave every partitioned table of a schema, audited; erasures and refusals stay."""

from datetime import date, datetime, timedelta

from cx_signals.retention import enforce_retention
from tests.conftest import insert, run_query, turn_and_score_rows

TODAY = date(2026, 12, 1)
OLD, KEPT = TODAY - timedelta(days=40), TODAY - timedelta(days=10)
NOTHING = dict.fromkeys(("raw", "signals", "metrics", "quarantine", "audit"))


def conversation(cid: str, day: date, customer: str, consent: bool) -> dict:
    start = datetime(day.year, day.month, day.day, 10)
    return {
        "partition_date": day,
        "conversation_id": cid,
        "customer_key": customer,
        "channel": "chat",
        "started_at": start,
        "ended_at": start + timedelta(minutes=5),
        "consent_analytics": consent,
    }


def days(con, table: str) -> list[date]:
    return [r[0] for r in con.execute(f"SELECT DISTINCT partition_date FROM {table} ORDER BY 1").fetchall()]


def test_partitions_older_than_the_setting_leave_every_table_of_the_schema_and_are_audited(con):
    insert(con, "raw.conversations", [conversation("c1", OLD, "k1", True), conversation("c2", KEPT, "k2", True)])
    insert(con, "raw.turns", [{"partition_date": d, "conversation_id": "c", "turn_index": 0} for d in (OLD, KEPT)])
    insert(con, "signals.turn_sentiment", [{"partition_date": d, "conversation_id": "c"} for d in (OLD, KEPT)])
    con.execute(
        "INSERT INTO audit.erasures (erased_at, customer_key, rows_removed, requested_by) VALUES "
        "(TIMESTAMP '2020-01-01', 'k9', '{}', 'ops')"
    )
    removals = enforce_retention(con, {**NOTHING, "raw": 30}, TODAY, "run-1", "test")
    assert {(r.table, r.rows) for r in removals} == {("raw.conversations", 1), ("raw.turns", 1)}
    assert days(con, "raw.conversations") == days(con, "raw.turns") == [KEPT]
    assert days(con, "signals.turn_sentiment") == [OLD, KEPT]  # signals: null keeps everything
    assert con.execute("SELECT count(*) FROM audit.erasures").fetchone()[0] == 1  # unpartitioned: kept
    audit = con.execute(
        "SELECT asset, partition_date, rows_removed, rows_written, note FROM audit.runs ORDER BY asset"
    ).fetchall()
    assert [a[:4] for a in audit] == [
        ("retention:raw.conversations", TODAY, 1, 0),
        ("retention:raw.turns", TODAY, 1, 0),
    ]
    assert (
        audit[0][4] == f"retention.raw = 30 days: deleted partitions {OLD} .. {OLD} (kept from {TODAY - timedelta(30)})"
    )


def test_null_keeps_everything(con):
    insert(con, "raw.conversations", [conversation("c1", OLD, "k1", True)])
    assert enforce_retention(con, NOTHING, TODAY, "run-1", "test") == []
    assert days(con, "raw.conversations") == [OLD]


def test_audit_retention_keeps_the_record_of_what_this_run_deleted(con):
    insert(con, "raw.conversations", [conversation("c1", OLD, "k1", True)])
    enforce_retention(con, {**NOTHING, "raw": 0, "audit": 0}, TODAY, "run-1", "test")
    assert con.execute("SELECT asset FROM audit.runs").fetchall() == [("retention:raw.conversations",)]


def test_a_refusal_outlives_the_raw_partition_that_held_it(con):
    insert(con, "raw.conversations", [conversation("c1", OLD, "k1", False)])
    enforce_retention(con, {**NOTHING, "raw": 30}, TODAY, "run-1", "test")
    assert days(con, "raw.conversations") == []
    later = conversation("c2", KEPT, "k1", True)  # the source says consent again
    insert(con, "raw.conversations", [later])
    turns, scores = turn_and_score_rows("c2", [("customer", later["started_at"], None, "hi", 0.0)])
    insert(con, "raw.turns", turns)
    insert(con, "signals.turn_sentiment", scores)
    assert run_query(con, "signals.conversation_signals", "signals/conversation_signals", [KEPT]) == []
    assert con.execute("SELECT customer_key FROM main.refused_customers").fetchall() == [("k1",)]
