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


def session_row(
    session_key: str,
    start: datetime,
    end: datetime,
    customer_key: str | None = "k1",
    friction_score: float = 0.0,
    **parts: Any,
) -> dict[str, Any]:
    """A signals.session_friction row with every count zero unless given in `parts`."""
    counts = (
        "n_events",
        "page_views",
        "clicks",
        "rage_click_bursts",
        "rage_clicks",
        "dead_clicks",
        "error_clicks",
        "form_errors",
        "quick_backs",
        "slow_pages",
        "crashes",
        "errors",
        "help_views",
        "contact_starts",
        "purchases",
    )
    return {
        "partition_date": start.date(),
        "session_key": session_key,
        "session_id": session_key.removeprefix("sid:") if session_key.startswith("sid:") else None,
        "anonymous_key": "a1",
        "customer_key": customer_key,
        "session_start": start,
        "session_end": end,
        "duration_seconds": (end - start).total_seconds(),
        **dict.fromkeys(counts, 0),
        "friction_score": friction_score,
        "had_friction": friction_score >= 3.0,
        **parts,
    }


def turn_and_score_rows(conversation_id: str, turns: list[tuple]) -> tuple[list[dict], list[dict]]:
    """raw.turns and signals.turn_sentiment rows from (speaker, start, end or None, text, compound) tuples."""
    turn_rows, score_rows = [], []
    for index, (speaker, start, end, text, compound) in enumerate(turns):
        day = start.date()
        turn_rows.append(
            {
                "partition_date": day,
                "conversation_id": conversation_id,
                "turn_index": index,
                "turn_id": str(index),
                "speaker": speaker,
                "ts": start,
                "end_ts": end,
                "text": text,
            }
        )
        score_rows.append(
            {
                "partition_date": day,
                "conversation_id": conversation_id,
                "turn_index": index,
                "speaker": speaker,
                "compound": compound,
                "pos": 0.0,
                "neu": 1.0,
                "neg": 0.0,
            }
        )
    return turn_rows, score_rows
