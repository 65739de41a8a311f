import duckdb
import pyarrow as pa
import pytest

from cx_signals.db import bind, ensure_schema, map_distinct, replace_from_query, table_checksums
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


def test_a_query_may_not_write_partitions_it_was_not_asked_for(con, monkeypatch):
    from datetime import date

    import cx_signals.db as db

    monkeypatch.setattr(db, "sql_text", lambda name: "SELECT DATE '2026-10-05' AS partition_date, 'x' AS source")
    with pytest.raises(ValueError, match="outside the partitions"):
        replace_from_query(con, "quarantine.rejects", [date(2026, 10, 1)], "any", {})


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
