"""Helpers shared by the asset modules: the run's days, metadata with row counts and a Markdown preview."""

import subprocess
from collections.abc import Callable
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

import cx_signals
from cx_signals.db import ensure_schema, record_audit
from cx_signals.ml.artefacts import latest_sidecar, training_reason
from cx_signals.tables import PARTITION_COLUMN, all_tables, published_table, qualified
from dagster_defs.partitions import DATA_DAYS_TAG, days_in_spans

PREVIEW_ROWS = 5
# Run tag: "force" retrains every model (cx-signals train, the weekly training schedule).
TRAIN_TAG = "cx/train"


def partition_days(context: dg.AssetExecutionContext) -> list[date]:
    """The days of the run's partition range, in order: all of them, or those the run's data-days tag names."""
    window = context.partition_time_window
    first, end = window.start.date(), window.end.date()
    spans = context.run.tags.get(DATA_DAYS_TAG)
    if spans:
        return sorted(day for day in days_in_spans(spans) if first <= day < end)
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


def audit_days(
    con: duckdb.DuckDBPyConnection,
    context: dg.AssetExecutionContext,
    table: str,
    days: list[date],
    notes: dict[date, str] | None = None,
) -> None:
    """Record in audit.runs the rows this run wrote to `table` on each of `days`, with any note on why a day is
    empty."""
    counts = dict(
        con.execute(
            f"SELECT {PARTITION_COLUMN}, count(*) FROM {qualified(table)} WHERE {PARTITION_COLUMN} BETWEEN ? AND ?"
            " GROUP BY ALL",
            [min(days), max(days)],
        ).fetchall()
    )
    record_audit(
        con,
        context.run.run_id,
        table,
        {d: {"rows_written": counts.get(d, 0), "note": (notes or {}).get(d)} for d in days},
        code_version(),
    )


def table_metadata(
    con: duckdb.DuckDBPyConnection, table: str, days: list[date], rows_written: int, **extra: Any
) -> dict[str, Any]:
    """Row counts and a Markdown preview of the written partitions of `table`."""
    where = f"WHERE {PARTITION_COLUMN} BETWEEN ? AND ?"
    total = con.execute(f"SELECT count(*) FROM {qualified(table)}").fetchone()[0]
    # the preview goes into Dagster's event log: only the columns the analysts' file may hold
    shown = published_table(all_tables()[table])
    columns = ", ".join(f'"{c.name}"' for c in shown.columns) if shown else "*"
    preview = con.execute(
        f"SELECT {columns} FROM {qualified(table)} {where} LIMIT {PREVIEW_ROWS}", [min(days), max(days)]
    ).df()
    return {
        "dagster/row_count": total,
        "rows_written": rows_written,
        "partitions": f"{min(days)} .. {max(days)} ({len(days)} days)",
        "preview": dg.MetadataValue.md(preview.to_markdown(index=False) if len(preview) else "_no rows_"),
        **extra,
    }


def model_not_trained(
    context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection, asset: str, day: date, reason: Exception
) -> dg.MaterializeResult:
    """Record (log, audit.runs note, metadata) that the model `asset` could not be trained: the run goes on and
    scoring keeps the current version, if any."""
    note = f"not trained: {type(reason).__name__}: {reason}"
    context.log.warning(f"{asset} {note}")
    record_audit(con, context.run.run_id, asset, {day: {"rows_written": 0, "note": note}}, code_version())
    return dg.MaterializeResult(metadata={"trained": False, "reason": note})


def model_kept(directory: Path, prefix: str) -> dg.MaterializeResult:
    """Report that the current model version stays (a run trains only a missing or marked model)."""
    current = latest_sidecar(directory, prefix) or {}
    return dg.MaterializeResult(
        metadata={
            "trained": False,
            "model_version": current.get("version", "none"),
            "reason": "current version kept; `cx-signals train` or the weekly training schedule retrains",
        }
    )


def train_if_due(
    context: dg.AssetExecutionContext,
    database: Any,
    directory: Path,
    prefix: str,
    asset: str,
    fit: Callable[[duckdb.DuckDBPyConnection, list[date]], tuple[Any, Path | None]],
    metadata: Callable[[Any, Path, str], dict[str, Any]],
    outdated: str | None = None,
) -> dg.MaterializeResult:
    """The training step shared by the model assets: keep the current version unless the model is missing, marked,
    forced by the run's tag or `outdated` (a reason the caller found); else `fit(con, days)` (returns the model and
    its saved artefact). A model that cannot train is recorded (`model_not_trained`) and the run goes on."""
    days = partition_days(context)
    reason = outdated or training_reason(directory, prefix, forced=context.run.tags.get(TRAIN_TAG) == "force")
    if reason is None:
        return model_kept(directory, prefix)
    with database.get_connection() as con:
        ensure_schema(con)
        try:
            model, path = fit(con, days)
        except Exception as exc:  # a model that cannot train never takes the run down
            return model_not_trained(context, con, asset, max(days), exc)
    return dg.MaterializeResult(metadata=metadata(model, path, reason))
