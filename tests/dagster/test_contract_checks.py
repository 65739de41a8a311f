"""The `matches_contract` asset check: GX runs inside DuckDB on the run's partitions, under the write lock, a
broken row fails the check with what failed, how often and a sample, and a failed check blocks every later step."""

from __future__ import annotations

import fcntl
from datetime import date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

import dagster_defs.checks as checks
from cx_signals.config import load_config
from cx_signals.db import ensure_schema
from cx_signals.generate import generate_landing
from cx_signals.quality import QualityResult
from dagster_defs.checks import RANGE_END, RANGE_START, contract_check
from dagster_defs.database_resources import LockedDuckDBResource
from dagster_defs.runner import run_pipeline
from tests.conftest import insert

DAY = date(2026, 10, 1)


@dg.asset(key=["raw", "events"])
def events() -> None:
    """Stands in for the ingest step: the rows are already in the file."""


def event(i: int, day: date = DAY, **changes) -> dict:
    row = {
        "partition_date": day,
        "event_id": f"e{i}",
        "ts": datetime(day.year, day.month, day.day, 10, 0, i),
        "anonymous_id": "a1",
        "event_type": "click",
    }
    return row | changes


@pytest.fixture
def resource(tmp_path: Path) -> LockedDuckDBResource:
    working = tmp_path / "working.duckdb"
    with duckdb.connect(str(working)) as con:
        ensure_schema(con)
    return LockedDuckDBResource(database=str(working), lock_file=str(tmp_path / "write.lock"))


@pytest.fixture
def lake_resource(tmp_path: Path) -> LockedDuckDBResource:
    """The working tables in a DuckLake (catalog in a DuckDB file here, PostgreSQL in production)."""
    resource = LockedDuckDBResource(
        database=str(tmp_path / "working.duckdb"),
        lock_file=str(tmp_path / "write.lock"),
        storage_mode="ducklake",
        lake_catalog=str(tmp_path / "catalog.ducklake"),
        lake_data_path=str(tmp_path / "lake"),
    )
    with resource.get_connection() as con:
        ensure_schema(con)
    return resource


published: list[str] = []


@dg.asset(key=["published", "database"], deps=[events])
def publish() -> None:
    """Stands in for publishing: records that it ran."""
    published.append("published")


def materialise(resource: LockedDuckDBResource, rows: list[dict], first: date = DAY, last: date = DAY):
    with resource.get_connection() as con:
        insert(con, "raw.events", rows)
    return dg.materialize(
        [events, publish, contract_check("raw.events")],
        resources={"duckdb": resource},
        tags={RANGE_START: first.isoformat(), RANGE_END: last.isoformat()},
        raise_on_error=False,
    )


def run_check(resource: LockedDuckDBResource, rows: list[dict], first: date = DAY, last: date = DAY):
    (evaluation,) = materialise(resource, rows, first, last).get_asset_check_evaluations()
    return evaluation


def test_a_failed_check_blocks_publishing_and_fails_the_run(resource):
    published.clear()
    result = materialise(resource, [event(0), event(1, event_type="teleport")])
    assert not result.success
    assert published == []
    assert [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"] == [
        "raw__events_matches_contract"
    ]


def test_a_passed_check_lets_publishing_run(resource):
    published.clear()
    assert materialise(resource, [event(0), event(1)]).success
    assert published == ["published"]


def test_passes_on_good_rows_under_the_write_lock_and_releases_the_file(resource, monkeypatch):
    held = []
    validate = checks.validate_partitions

    def spy(*args, **kwargs):
        # flock conflicts between two open files even in one process: this open must find the lock taken
        with open(resource.lock_file) as other:
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held.append(False)
            except BlockingIOError:
                held.append(True)
        return validate(*args, **kwargs)

    monkeypatch.setattr(checks, "validate_partitions", spy)
    evaluation = run_check(resource, [event(i) for i in range(4)])
    assert evaluation.passed
    assert held == [True]
    assert evaluation.metadata["rows_checked"].value == 4
    assert evaluation.metadata["failures"].value == "none"
    assert evaluation.metadata["partitions"].value == f"{DAY} .. {DAY}"
    with duckdb.connect(resource.database) as con:  # GX closed its read-only opener of the file
        con.execute("DELETE FROM raw.events")


def test_a_broken_row_fails_with_what_failed_how_often_and_a_sample(resource):
    rows = [event(0), event(1, event_type="teleport"), event(2, x=-1), event(2), event(3, anonymous_id=None)]
    evaluation = run_check(resource, rows)
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["rows_checked"].value == 5
    assert sorted(evaluation.metadata["failures"].value.splitlines()) == [
        "- expect_column_values_to_be_between x: 1 unexpected of 5, e.g. [-1]",
        "- expect_column_values_to_be_in_set event_type: 1 unexpected of 5, e.g. ['teleport']",
        "- expect_column_values_to_be_unique event_id: 2 unexpected of 5, e.g. ['e2', 'e2']",
        "- expect_column_values_to_not_be_null anonymous_id: 1 unexpected of 5, e.g. [None]",
    ]


def test_checks_only_the_runs_partitions(resource):
    other_day = date(2026, 9, 30)
    evaluation = run_check(resource, [event(0), event(1, other_day, event_type="teleport")])
    assert evaluation.passed
    assert evaluation.metadata["rows_checked"].value == 1


def test_a_broken_row_fails_on_a_ducklake_too(lake_resource):
    evaluation = run_check(lake_resource, [event(0), event(1, event_type="teleport")])
    assert not evaluation.passed
    assert evaluation.metadata["failures"].value == (
        "- expect_column_values_to_be_in_set event_type: 1 unexpected of 2, e.g. ['teleport']"
    )


def test_a_table_failing_its_contract_keeps_the_published_file_and_the_run_says_why(tmp_path, monkeypatch):
    landing, db = tmp_path / "landing", tmp_path / "cx.duckdb"
    config = load_config()
    generate_landing(landing, days=1, customers=40, start=DAY, repeat_window_days=config.outcomes.repeat_window_days)
    assert run_pipeline(landing, db, [DAY], config).success
    published = db.read_bytes()
    validate = checks.validate_partitions

    def broken_daily_outcomes(table, *args) -> QualityResult:
        if table.name == "metrics.daily_outcomes":
            return QualityResult(False, ["expect_column_values_to_be_between contacts: 1 unexpected of 1"], 1)
        return validate(table, *args)

    monkeypatch.setattr(checks, "validate_partitions", broken_daily_outcomes)
    outcome = run_pipeline(landing, db, [DAY], config)
    assert not outcome.success
    assert outcome.failed_checks == ["metrics/daily_outcomes:matches_contract"]
    (failure,) = outcome.failures
    assert failure.step == "metrics__daily_outcomes_matches_contract"
    assert "metrics/daily_outcomes: matches_contract" in failure.root_cause
    assert "was not published" in failure.hint
    assert db.read_bytes() == published


def test_the_checks_connections_get_the_runs_memory_limit(tmp_path, monkeypatch):
    # a read-only connection opened without the run's settings takes DuckDB's default memory limit, 80% of the
    # machine: a 90-day check of raw.turns reached 3.9 GiB that way
    working = tmp_path / "working.duckdb"
    with duckdb.connect(str(working)) as con:
        ensure_schema(con)
    resource = LockedDuckDBResource(
        database=str(working), lock_file=str(tmp_path / "write.lock"), connection_config={"memory_limit": "321MB"}
    )
    limits = []
    connect = checks.connect

    def spy(*args, **kwargs):
        con = connect(*args, **kwargs)
        limits.append(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])
        return con

    monkeypatch.setattr(checks, "connect", spy)
    assert run_check(resource, [event(0), event(1)]).passed
    assert limits and all(limit.startswith("30") for limit in limits), limits  # 321 MB is 306.1 MiB
