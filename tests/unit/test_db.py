from datetime import date, timedelta

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cx_signals.db import bind, day_batches, ensure_schema, map_distinct, replace_from_query, table_checksums
from cx_signals.tables import all_tables


def test_a_database_from_an_older_contract_gains_the_new_columns():
    con = duckdb.connect()
    ensure_schema(con)
    con.execute("ALTER TABLE metrics.contact_outcomes DROP COLUMN pre_contact_friction")
    con.execute("UPDATE main._cx_schema SET fingerprint = 'written by an older version'")
    ensure_schema(con)
    columns = [r[0] for r in con.execute("DESCRIBE metrics.contact_outcomes").fetchall()]
    assert "pre_contact_friction" in columns
    comment = con.execute(
        "SELECT comment FROM duckdb_columns() WHERE table_name = 'contact_outcomes' "
        "AND column_name = 'pre_contact_friction'"
    ).fetchone()[0]
    assert comment.startswith("Failure demand")


def test_an_up_to_date_schema_is_not_rebuilt():
    con = duckdb.connect()
    ensure_schema(con)
    con.execute("COMMENT ON TABLE metrics.contact_outcomes IS 'changed by hand'")
    ensure_schema(con)
    assert (
        con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = 'contact_outcomes'").fetchone()[0]
        == "changed by hand"
    )


def test_every_table_and_column_is_commented_from_its_contract(con):
    uncommented = con.execute(
        "SELECT schema_name || '.' || table_name || '.' || column_name FROM duckdb_columns() "
        "WHERE schema_name IN ('raw', 'signals', 'metrics', 'quarantine', 'audit') AND coalesce(comment, '') = ''"
    ).fetchall()
    assert uncommented == []
    assert len(all_tables()) >= 20


def test_bind_names_missing_parameters_and_drops_unused_ones():
    assert bind("SELECT $a", {"a": 1, "b": 2}) == {"a": 1}
    with pytest.raises(KeyError, match="b, c"):
        bind("SELECT $a, $b, $c", {"a": 1})


D0 = date(2026, 10, 1)


def test_day_batches_cut_consecutive_days_and_start_again_at_a_gap():
    days = [D0 + timedelta(days=n) for n in (0, 1, 2, 3, 4, 7, 8)]
    assert day_batches(days, 2) == [days[0:2], days[2:4], [days[4]], days[5:7]]
    assert day_batches(reversed(days), 10) == [days[:5], days[5:]]
    assert day_batches([], 3) == []


@given(st.sets(st.integers(0, 60), max_size=40), st.integers(1, 9))
def test_day_batches_cover_every_day_once_in_bounded_gapless_batches(offsets, size):
    days = {D0 + timedelta(days=n) for n in offsets}
    batches = day_batches(days, size)
    assert [d for b in batches for d in b] == sorted(days)
    for batch in batches:
        assert 1 <= len(batch) <= size
        assert (batch[-1] - batch[0]).days == len(batch) - 1


def test_a_query_over_many_days_runs_a_batch_at_a_time_with_the_same_rows(con, monkeypatch):
    import cx_signals.db as db

    one_row_a_day = (
        "SELECT d::DATE AS partition_date, 'x' AS source "
        "FROM range($start_date::DATE, $end_date::DATE + 1, INTERVAL 1 DAY) AS t (d)"
    )
    ranges = []

    def recording_bind(sql, parameters):
        ranges.append((parameters["start_date"], parameters["end_date"]))
        return bind(sql, parameters)

    monkeypatch.setattr(db, "sql_text", lambda name: one_row_a_day)
    monkeypatch.setattr(db, "bind", recording_bind)
    days = [D0 + timedelta(days=n) for n in range(10)]
    assert replace_from_query(con, "quarantine.rejects", days, "any", {}, 4) == 10
    assert ranges == [(days[0], days[3]), (days[4], days[7]), (days[8], days[9])]
    stored = con.execute("SELECT partition_date FROM quarantine.rejects ORDER BY 1").fetchall()
    assert [d for (d,) in stored] == days


def test_a_query_may_not_write_partitions_it_was_not_asked_for(con, monkeypatch):
    import cx_signals.db as db

    monkeypatch.setattr(db, "sql_text", lambda name: "SELECT DATE '2026-10-05' AS partition_date, 'x' AS source")
    with pytest.raises(ValueError, match="outside the partitions"):
        replace_from_query(con, "quarantine.rejects", [date(2026, 10, 1)], "any", {}, 7)


def test_checksums_ignore_row_order_but_see_content(con):
    con.execute("CREATE TABLE raw.scratch AS SELECT * FROM range(100) t(i)")
    before = table_checksums(con)["raw.scratch"]
    con.execute("DELETE FROM raw.scratch WHERE i < 50")
    con.execute("INSERT INTO raw.scratch SELECT * FROM range(50)")
    assert table_checksums(con)["raw.scratch"] == before
    con.execute("UPDATE raw.scratch SET i = i + 1 WHERE i = 7")
    assert table_checksums(con)["raw.scratch"] != before


def _upper_in_batches(con: duckdb.DuckDBPyConnection, values_sql: str) -> tuple[int, list[int]]:
    seen: list[int] = []

    def upper(values: list[str]) -> pa.Table:
        seen.append(len(values))
        return pa.table({"v": pa.array(values, pa.string()), "upper": pa.array([v.upper() for v in values])})

    return map_distinct(con, values_sql, "_upper", upper, batch_rows=3), seen


def test_map_distinct_hands_python_one_batch_at_a_time_and_covers_every_distinct_value_once():
    con = duckdb.connect()
    con.execute("CREATE TABLE words AS SELECT unnest(['a', 'b', 'a', NULL, 'c', 'd', 'e', 'b', 'f', 'g']) AS w")
    total, batches = _upper_in_batches(con, "SELECT w AS v FROM words")
    assert total == 7
    assert batches == [3, 3, 1]
    assert con.execute("SELECT v, upper FROM _upper ORDER BY v").fetchall() == [(c, c.upper()) for c in "abcdefg"]
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = '_distinct_values'").fetchone()[0] == 0


def test_map_distinct_of_nothing_leaves_an_empty_table_of_the_computed_schema():
    con = duckdb.connect()
    total, batches = _upper_in_batches(con, "SELECT NULL::VARCHAR AS v WHERE false")
    assert (total, batches) == (0, [0])
    assert con.execute("SELECT count(*) FROM _upper").fetchone()[0] == 0
    assert [r[0] for r in con.execute("DESCRIBE _upper").fetchall()] == ["v", "upper"]
