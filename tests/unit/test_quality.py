"""Contract suites run inside DuckDB: they pass on good rows, fail on each kind of broken row with a count and a
sample, look only at the partitions asked for, and leave the file closed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from cx_signals.db import ensure_schema
from cx_signals.quality import expectations_for, validate_partitions
from cx_signals.tables import all_tables
from tests.conftest import insert

DAY, NEXT_DAY = date(2026, 10, 1), date(2026, 10, 2)
SENTIMENT = all_tables()["signals.turn_sentiment"]
EVENTS = all_tables()["raw.events"]


def sentiment_row(turn_index: int, day: date = DAY, **changes) -> dict:
    row = {
        "partition_date": day,
        "conversation_id": f"c-{day}",
        "turn_index": turn_index,
        "speaker": "customer",
        "compound": 0.5,
        "pos": 0.4,
        "neu": 0.6,
        "neg": 0.0,
    }
    return row | changes


def event_row(i: int, **changes) -> dict:
    row = {
        "partition_date": DAY,
        "event_id": f"e{i}",
        "ts": datetime(2026, 10, 1, 10, 0, i),
        "anonymous_id": "a1",
        "event_type": "click",
        "x": 10,
        "y": 20,
    }
    return row | changes


def database(tmp_path: Path, table: str, rows: list[dict]) -> Path:
    path = tmp_path / "working.duckdb"
    with duckdb.connect(str(path)) as con:
        ensure_schema(con)
        insert(con, table, rows)
    return path


def reader(path: Path) -> Callable[[], duckdb.DuckDBPyConnection]:
    return lambda: duckdb.connect(str(path), read_only=True)


def test_suite_follows_the_contract():
    kinds = {(e.expectation_type, getattr(e, "column", None)) for e in expectations_for(SENTIMENT)}
    for field in SENTIMENT.checks:
        assert ("expect_column_values_to_not_be_null", field.name) in kinds
        if field.allowed:
            assert ("expect_column_values_to_be_in_set", field.name) in kinds
        if field.range:
            assert ("expect_column_values_to_be_between", field.name) in kinds
    assert ("expect_compound_columns_to_be_unique", None) in kinds
    assert ("expect_column_values_to_be_unique", "event_id") in {
        (e.expectation_type, getattr(e, "column", None)) for e in expectations_for(EVENTS)
    }


def test_good_rows_pass_and_the_file_is_closed_afterwards(tmp_path):
    path = database(tmp_path, SENTIMENT.name, [sentiment_row(i) for i in range(5)])
    result = validate_partitions(SENTIMENT, reader(path), DAY, DAY)
    assert result.success, result.failures
    assert result.failures == []
    assert result.expectations == len(expectations_for(SENTIMENT))
    # GX opened the file read-only; a read-write opener in this process would be refused if it were still open
    with duckdb.connect(str(path)) as con:
        con.execute("DELETE FROM signals.turn_sentiment")


@pytest.mark.parametrize(
    ("table", "broken", "expected"),
    [
        (SENTIMENT, [sentiment_row(7, speaker=None)], "expect_column_values_to_not_be_null speaker: 1 unexpected"),
        (SENTIMENT, [sentiment_row(7, speaker="robot")], "expect_column_values_to_be_in_set speaker: 1 unexpected"),
        (SENTIMENT, [sentiment_row(7, compound=1.5)], "expect_column_values_to_be_between compound: 1 unexpected"),
        (
            SENTIMENT,
            [sentiment_row(1, neg=0.2)],
            "expect_compound_columns_to_be_unique ['conversation_id', 'turn_index']: 2 unexpected",
        ),
        (EVENTS, [event_row(9, x=None, ts=None)], "expect_column_values_to_not_be_null ts: 1 unexpected"),
        (EVENTS, [event_row(9, event_type="teleport")], "expect_column_values_to_be_in_set event_type: 1 unexpected"),
        (EVENTS, [event_row(9, y=-5)], "expect_column_values_to_be_between y: 1 unexpected"),
        (EVENTS, [event_row(1, x=7)], "expect_column_values_to_be_unique event_id: 2 unexpected"),
    ],
    ids=["null", "not-allowed", "out-of-range", "duplicate-compound-key", "null-ts", "bad-event", "y-range", "dup-id"],
)
def test_a_broken_row_fails_the_check_with_count_and_sample(tmp_path, table, broken, expected):
    good = [sentiment_row(i) for i in range(5)] if table is SENTIMENT else [event_row(i) for i in range(5)]
    path = database(tmp_path, table.name, good + broken)
    result = validate_partitions(table, reader(path), DAY, DAY)
    assert not result.success
    failure = next(f for f in result.failures if f.startswith(expected))
    assert f"of {len(good) + len(broken)}, e.g. [" in failure
    assert len(result.failures) == 1, result.failures


def test_the_sample_names_the_broken_values(tmp_path):
    rows = [sentiment_row(i, speaker="robot" if i % 2 else "bot") for i in range(20)]
    result = validate_partitions(SENTIMENT, reader(database(tmp_path, SENTIMENT.name, rows)), DAY, DAY)
    assert result.failures == [
        "expect_column_values_to_be_in_set speaker: 10 unexpected of 20, e.g. ['robot', 'robot', 'robot', 'robot', "
        "'robot']"
    ]


def test_only_the_partitions_asked_for_are_checked(tmp_path):
    rows = [sentiment_row(0), sentiment_row(1), sentiment_row(0, NEXT_DAY, compound=9.0)]
    path = database(tmp_path, SENTIMENT.name, rows)
    assert validate_partitions(SENTIMENT, reader(path), DAY, DAY).success
    assert not validate_partitions(SENTIMENT, reader(path), NEXT_DAY, NEXT_DAY).success
    assert not validate_partitions(SENTIMENT, reader(path), DAY, NEXT_DAY).success


def test_a_column_the_contract_does_not_know_fails(tmp_path):
    path = database(tmp_path, SENTIMENT.name, [sentiment_row(0)])
    with duckdb.connect(str(path)) as con:
        con.execute("ALTER TABLE signals.turn_sentiment ADD COLUMN surprise INTEGER")
    result = validate_partitions(SENTIMENT, reader(path), DAY, DAY)
    assert not result.success
    assert result.failures[0].startswith("expect_table_columns_to_match_set : observed [")
    assert "'surprise'" in result.failures[0]
