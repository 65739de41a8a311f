"""What the `cx-signals` commands print: query results as a table, CSV or JSON, a dry run's verdict, and progress."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from cx_signals.dry_run import DryRun

QUERY_FORMATS = ("table", "csv", "json")
_FETCH_ROWS = 1_000


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value) if not isinstance(value, str | int | float | bool | list | dict | type(None)) else value


def print_query(result: duckdb.DuckDBPyConnection, fmt: str, max_rows: int, console: Console) -> int:
    """Print the rows of an executed query as `fmt` (table: at most `max_rows` rows, then how many more; csv and
    json: every row, streamed); return the number of rows."""
    columns = [d[0] for d in result.description or []]
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        n = 0
        while rows := result.fetchmany(_FETCH_ROWS):
            writer.writerows([["" if v is None else v for v in row] for row in rows])
            n += len(rows)
        return n
    if fmt == "json":
        n = 0
        sys.stdout.write("[")
        while rows := result.fetchmany(_FETCH_ROWS):
            for row in rows:
                record = dict(zip(columns, map(_json_value, row), strict=True))
                sys.stdout.write(("," if n else "") + "\n" + json.dumps(record, default=str))
                n += 1
        sys.stdout.write("\n]\n" if n else "]\n")
        return n
    table = RichTable(*columns)
    shown = result.fetchmany(max_rows)
    for row in shown:
        table.add_row(*(_cell(v) for v in row), end_section=False)
    more = 0
    while rows := result.fetchmany(_FETCH_ROWS):
        more += len(rows)
    console.print(table)
    total = len(shown) + more
    note = f"{total:,} rows" + (f" ({more:,} not shown: --max-rows, or --format csv for all)" if more else "")
    console.print(note, highlight=False)
    return total


def print_dry_run(run: DryRun, console: Console) -> None:
    """Print a dry run: per file its format, records and what would load, be quarantined or removed as duplicates,
    then the top reject reasons of each file."""
    for ignored in run.ignored:
        console.print(f"ignored {ignored.relative}: {ignored.reason}", markup=False, highlight=False)
    table = RichTable(title="would load (nothing written)")
    table.add_column("file", overflow="fold")
    for name in ("format", "records", "load", "quarantine", "dup."):
        table.add_column(name)
    for f in run.files:
        fmt = "unknown" if f.file_error and f.read_as == "unknown" else f.format
        table.add_row(
            f.file,
            f"{fmt}\n{f.read_as}" if f.read_as and f.read_as != fmt else fmt,
            f"{f.records:,}",
            f"{f.loaded:,}",
            "whole file" if f.file_error else f"{f.quarantined:,}",
            f"{f.duplicates:,}",
        )
    console.print(table)
    rejected = [f for f in run.files if f.file_error or f.reasons]
    if rejected:
        console.print("[bold]would be quarantined[/]")
    for f in rejected:
        console.print(f"  {f.file}", markup=False, highlight=False)
        if f.file_error:
            console.print(f"    whole file: {f.file_error[:300]}", markup=False, highlight=False)
        for rule, field_name, n, line, reason in f.reasons:
            where = f" ({field_name})" if field_name else ""
            console.print(f"    {n:,} x {rule}{where}", markup=False, highlight=False)
            console.print(f"      e.g. line {line}: {reason[:200]}", markup=False, highlight=False)


@contextmanager
def step_progress(console: Console, description: str) -> Iterator[Progress]:
    """A transient progress display on `console` (stderr): spinner, description, bar, count and elapsed time. It
    shows only on a terminal."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    with progress:
        progress.add_task(description, total=None)
        yield progress
