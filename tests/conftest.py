"""Shared fixtures: an in-memory DuckDB with every table, and helpers to load hand-made rows."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from cx_signals.config import cost_model_rows, load_config, sql_parameters
from cx_signals.db import ensure_schema, replace_from_query, replace_rows

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    """A fresh in-memory database with every schema, table and macro."""
    connection = duckdb.connect()
    ensure_schema(connection)
    connection.register("cost_model", pa.Table.from_pylist(cost_model_rows(load_config())))
    yield connection
    connection.close()


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert hand-made rows (missing columns are null) into `table`."""
    days = sorted({r["partition_date"] for r in rows})
    replace_rows(con, table, days, rows)


def run_query(
    con: duckdb.DuckDBPyConnection, table: str, sql_name: str, days: list[date], config: dict | None = None
) -> list[dict[str, Any]]:
    """Materialise `sql/<sql_name>.sql` into `table` for `days` and return the rows as dicts."""
    replace_from_query(con, table, days, sql_name, sql_parameters(config or load_config()))
    cursor = con.execute(f"SELECT * FROM {table} ORDER BY ALL")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def ts(text: str) -> datetime:
    """A naive UTC datetime from 'YYYY-MM-DD HH:MM:SS[.fff]'."""
    return datetime.fromisoformat(text)
