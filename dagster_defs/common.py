"""Helpers shared by the asset modules: the run's days, metadata with row counts and a Markdown preview."""

import subprocess
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

import cx_signals
from cx_signals.tables import PARTITION_COLUMN, qualified

PREVIEW_ROWS = 5


def partition_days(context: dg.AssetExecutionContext) -> list[date]:
    """Every day of the run's partition range, in order."""
    window = context.partition_time_window
    first, end = window.start.date(), window.end.date()
    return [first + timedelta(days=offset) for offset in range((end - first).days)]


@cache
def code_version() -> str:
    """cx-signals version plus the git commit when running from a checkout."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(cx_signals.__file__).resolve().parent,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    return f"{cx_signals.__version__}+{commit}" if commit else cx_signals.__version__


def table_metadata(
    con: duckdb.DuckDBPyConnection, table: str, days: list[date], rows_written: int, **extra: Any
) -> dict[str, Any]:
    """Row counts and a Markdown preview of the written partitions of `table`."""
    where = f"WHERE {PARTITION_COLUMN} BETWEEN ? AND ?"
    total = con.execute(f"SELECT count(*) FROM {qualified(table)}").fetchone()[0]
    preview = con.execute(f"SELECT * FROM {qualified(table)} {where} LIMIT {PREVIEW_ROWS}", [min(days), max(days)]).df()
    return {
        "dagster/row_count": total,
        "rows_written": rows_written,
        "partitions": f"{min(days)} .. {max(days)} ({len(days)} days)",
        "preview": dg.MetadataValue.md(preview.to_markdown(index=False) if len(preview) else "_no rows_"),
        **extra,
    }


def not_trained(context: dg.AssetExecutionContext, model: str, reason: Exception) -> dg.MaterializeResult:
    """Log and report that `model` was not trained (too few labels): the run goes on, scoring skips it."""
    context.log.warning(f"no {model} trained: {reason}")
    return dg.MaterializeResult(metadata={"trained": False, "reason": str(reason)})
