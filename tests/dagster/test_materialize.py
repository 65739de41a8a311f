"""`dg.materialize` of the whole graph on a temporary DuckDB file, as the CLI and the UI run it."""

from datetime import date
from pathlib import Path

import duckdb
import pytest

from cx_signals.config import load_config
from cx_signals.generate import generate_landing
from dagster_defs.runner import run_pipeline

FIRST, LAST = date(2026, 10, 1), date(2026, 10, 3)


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("landing")
    generate_landing(out, days=3, customers=120, seed=3, start=FIRST)
    return out


@pytest.fixture(scope="module")
def published(landing, tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("db") / "cx.duckdb"
    outcome = run_pipeline(landing, db, [FIRST, date(2026, 10, 2), LAST], load_config())
    assert outcome.success, outcome.error
    assert outcome.failed_checks == []
    return db


def test_every_table_has_rows_and_reconciles(published):
    with duckdb.connect(str(published), read_only=True) as con:
        for table in (
            "raw.conversations",
            "raw.turns",
            "raw.events",
            "raw.telemetry",
            "signals.turn_sentiment",
            "signals.conversation_signals",
            "signals.session_friction",
            "metrics.contact_outcomes",
            "metrics.daily_outcomes",
        ):
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0, table
        unreconciled = con.execute(
            """SELECT count(*) FROM audit.runs WHERE records_read IS NOT NULL
               AND records_read <> rows_written + records_quarantined + duplicates_removed
               AND asset IN ('raw.conversations', 'raw.telemetry', 'raw.events')"""
        ).fetchone()[0]
        assert unreconciled == 0
        days = {r[0] for r in con.execute("SELECT DISTINCT partition_date FROM metrics.daily_outcomes").fetchall()}
        assert days == {FIRST, date(2026, 10, 2), LAST}


def test_tables_and_columns_carry_comments_from_the_contracts(published):
    with duckdb.connect(str(published), read_only=True) as con:
        missing = con.execute(
            "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
            "WHERE schema_name IN ('raw', 'signals', 'metrics') AND (comment IS NULL OR comment = '')"
        ).fetchall()
    assert missing == []


def test_rerunning_a_partition_replaces_it(landing, published, tmp_path):
    with duckdb.connect(str(published), read_only=True) as con:
        before = con.execute("SELECT count(*), sum(cost) FROM metrics.contact_outcomes").fetchone()
    assert run_pipeline(landing, published, [date(2026, 10, 2)], load_config()).success
    with duckdb.connect(str(published), read_only=True) as con:
        after = con.execute("SELECT count(*), sum(cost) FROM metrics.contact_outcomes").fetchone()
    assert after[0] == before[0] and after[1] == pytest.approx(before[1])
