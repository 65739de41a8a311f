"""The data dictionary matches the files a real run wrote: the analysts' published file and the working file."""

from __future__ import annotations

from pathlib import Path

import duckdb

from cx_signals.dictionary import dictionary
from cx_signals.paths import database_files


def columns(path: Path) -> dict[str, dict[str, str]]:
    """{schema.table: {column: DuckDB type}} of the database at `path`, its `main` schema left out."""
    tables: dict[str, dict[str, str]] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        for table, column, kind in con.execute(
            "SELECT schema_name || '.' || table_name, column_name, data_type FROM duckdb_columns()"
            " WHERE database_name = current_database() AND schema_name <> 'main'"
        ).fetchall():
            tables.setdefault(table, {})[column] = kind
    return tables


def test_published_file_is_exactly_the_published_part_of_the_dictionary(database: Path) -> None:
    documented = {t.name: {c.name: c.type for c in t.columns if c.published} for t in dictionary() if t.published}
    found = columns(database)
    assert sorted(found) == sorted(documented)
    for table, kinds in found.items():
        assert kinds == documented[table], table


def test_working_file_holds_everything_documented(database: Path) -> None:
    documented = {t.name: {c.name: c.type for c in t.columns} for t in dictionary()}
    found = columns(database_files(database).working)
    assert found == documented
    assert [t for t in dictionary() if not t.published], "the dictionary documents working-only tables"
