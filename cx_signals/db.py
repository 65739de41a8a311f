"""DuckDB helpers: schema from the contracts, SQL files with parameters, partition replacement, publishing.

Every write replaces whole partitions in one transaction (delete + insert), so re-running is idempotent and
a crash leaves the previous state. Analysts read a published file built from the working file (see `publish`).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from cx_signals.bundled import project_dir
from cx_signals.paths import database_files
from cx_signals.storage import is_conflict
from cx_signals.tables import (
    PARTITION_COLUMN,
    SCHEMAS,
    Table,
    add_column_statement,
    all_tables,
    comment_statements,
    create_statement,
    partition_statement,
    published_table,
    qualified,
)

_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
# Run in this order after the tables exist: macros (both files), then the identity stitching, the consent views and
# the shared contact definitions that use them (working file only).
_SETUP = ("setup/macros", "setup/identity", "setup/consent", "setup/contacts")
# Writers that build a new DuckLake's schema at once conflict (two creates of one name): the loser tries again.
_SCHEMA_ATTEMPTS = 5
_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMP": pa.timestamp("us"),
    "DATE": pa.date32(),
    "JSON": pa.string(),
}


def sql_text(name: str) -> str:
    """The text of `sql/<name>.sql`."""
    return (project_dir("sql") / f"{name}.sql").read_text(encoding="utf-8")


def sql_hash(name: str) -> str:
    """SHA-256 (hex) of `sql/<name>.sql` and of the shared definitions (sql/setup) it uses: what it computes."""
    parts = [sql_text(name), *(_setup_definitions()[d] for d in sorted(sql_reads(sql_text(name)).definitions))]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SqlReads:
    """What a query reads: qualified tables (`schema.table`) and the shared definitions of sql/setup it uses."""

    tables: frozenset[str]
    definitions: frozenset[str]


# customer_records() reads derived tables (sessions, contact outcomes) only to find the rows of the customers it is
# given, never their values: a query using it reads what its argument reads (the consent views), so that consent does
# not make a table depend on itself or on later steps.
_LOOKUP_ONLY = frozenset({"customer_records"})
_PARSING = threading.Lock()  # one parser connection, used by one thread at a time
_DEFINITION = re.compile(
    r"\s*CREATE OR REPLACE (MACRO|VIEW) (?:main\.)?(\w+)(?:\([^)]*\))? AS\s+(TABLE\s+)?(.*?);?\s*$",
    re.DOTALL | re.IGNORECASE,
)


@cache
def _parser() -> duckdb.DuckDBPyConnection:
    """An empty in-memory database: parsing needs no tables."""
    return duckdb.connect()


@cache
def _setup_definitions() -> dict[str, str]:
    """The body of each macro and view sql/setup defines, by name: a SELECT (a scalar macro's expression as
    `SELECT <expression>`)."""
    definitions = {}
    for name in _SETUP:
        for statement in duckdb.extract_statements(sql_text(name)):
            code = re.sub(r"--[^\n]*", "", statement.query)
            match = _DEFINITION.match(code)
            if match is None:
                raise ValueError(f"sql/{name}.sql: not a CREATE OR REPLACE MACRO or VIEW: {code.strip()[:80]}")
            kind, definition, table, body = match.groups()
            definitions[definition] = body if kind.upper() == "VIEW" or table else f"SELECT {body}"
    return definitions


def _references(node: Any, tables: set[tuple[str, str]], functions: set[str], ctes: set[str]) -> None:
    if isinstance(node, dict):
        if node.get("type") == "BASE_TABLE":
            tables.add((node["schema_name"], node["table_name"]))
        elif node.get("class") == "FUNCTION":
            functions.add(node["function_name"])
        for entry in (node.get("cte_map") or {}).get("map", []):
            ctes.add(entry["key"])
        for value in node.values():
            _references(value, tables, functions, ctes)
    elif isinstance(node, list):
        for value in node:
            _references(value, tables, functions, ctes)


@cache
def _direct_reads(sql: str) -> tuple[frozenset[str], frozenset[str]]:
    """(schema-qualified tables, other relation and function names) that one SELECT names, parsed by DuckDB."""
    with _PARSING:
        # the text as a literal: the first statement of a process with a parameter takes most of a second
        tree = json.loads(_parser().execute(f"SELECT json_serialize_sql({_sql_string(sql)})").fetchone()[0])
    if tree.get("error"):
        raise ValueError(f"cannot parse SQL: {tree.get('error_message')}")
    found: set[tuple[str, str]] = set()
    functions: set[str] = set()
    ctes: set[str] = set()
    _references(tree, found, functions, ctes)
    tables = frozenset(f"{s}.{t}" for s, t in found if s and s != "main")
    names = frozenset({t for s, t in found if s == "main" or (not s and t not in ctes)} | functions)
    return tables, names


@cache
def sql_reads(sql: str) -> SqlReads:
    """The tables one SELECT (with `$name` parameters) reads, parsed by DuckDB itself, and the sql/setup macros and
    views it uses, followed into their definitions: a table named only in a comment, a string or a CTE of the same
    name is not read. Relations the caller registers (such as `cost_model`) are not tables and are left out."""
    definitions = _setup_definitions()
    tables: set[str] = set()
    used: set[str] = set()
    pending = [sql]
    while pending:
        found, names = _direct_reads(pending.pop())
        tables.update(found)
        for name in sorted((names & definitions.keys()) - used):
            used.add(name)
            if name not in _LOOKUP_ONLY:
                pending.append(definitions[name])
    return SqlReads(frozenset(tables), frozenset(used))


def bind(sql: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """The subset of `parameters` that `sql` references as `$name`; raise KeyError naming any missing one."""
    names = set(_PARAMETER.findall(sql))
    missing = sorted(names - parameters.keys())
    if missing:
        raise KeyError(f"SQL parameters without a value: {', '.join(missing)}")
    return {name: parameters[name] for name in names}


@cache
def schema_fingerprint() -> str:
    """Hash of every table definition, comment and macro: when it changes, ensure_schema has work to do."""
    parts = [sql_text(name) for name in _SETUP]
    for table in all_tables().values():
        parts.append(create_statement(table))
        parts.extend(comment_statements(table))
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def _is_lake(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the connection's current database is an attached DuckLake."""
    return con.execute(
        "SELECT type = 'ducklake' FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()[0]


def _create_tables(con: duckdb.DuckDBPyConnection, tables: Iterable[Table]) -> None:
    """Create every schema and table, add the columns a newer contract added, and (re)write the comments.

    In a DuckLake a new table is also partitioned by day, so each day's rows are Parquet files of their own.
    """
    existing: dict[str, set[str]] = {}
    for table, column in con.execute(
        "SELECT schema_name || '.' || table_name, column_name FROM duckdb_columns()"
        " WHERE database_name = current_database()"
    ).fetchall():
        existing.setdefault(table, set()).add(column)
    lake = _is_lake(con)
    statements = [f"CREATE SCHEMA IF NOT EXISTS {schema}" for schema in SCHEMAS]
    for table in tables:
        statements.append(create_statement(table))
        if table.name in existing:
            statements.extend(
                add_column_statement(table, c) for c in table.columns if c.name not in existing[table.name]
            )
        elif lake and PARTITION_COLUMN in table.column_names:
            statements.append(partition_statement(table))
        statements.extend(comment_statements(table))
    con.execute(";\n".join(statements))


def table_columns(con: duckdb.DuckDBPyConnection, table_name: str) -> list[str]:
    """Column names of `schema.table` in the connection's current database (empty when it does not exist)."""
    schema, name = table_name.split(".")
    return [
        row[0]
        for row in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database()"
            " AND schema_name = ? AND table_name = ? ORDER BY column_index",
            [schema, name],
        ).fetchall()
    ]


def _build_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE IF NOT EXISTS main._cx_schema (fingerprint VARCHAR)")
    if con.execute("SELECT count(*) FROM main._cx_schema WHERE fingerprint = ?", [schema_fingerprint()]).fetchone()[0]:
        return
    _create_tables(con, all_tables().values())
    for name in _SETUP:
        con.execute(sql_text(name))
    con.execute("DELETE FROM main._cx_schema")
    con.execute("INSERT INTO main._cx_schema VALUES (?)", [schema_fingerprint()])


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every schema, table, column a newer contract added, comment, macro and view; safe to run repeatedly.

    Skipped (one query) when the database already has this code's schema, recorded in `main._cx_schema`. Built in
    one transaction; on a DuckLake, one that conflicts with another writer building it too is tried again.
    """
    for attempt in range(_SCHEMA_ATTEMPTS):
        con.execute("BEGIN TRANSACTION")
        try:
            _build_schema(con)
            con.execute("COMMIT")
            return
        except duckdb.Error as exc:
            with suppress(duckdb.TransactionException):  # a failed COMMIT has rolled back already
                con.execute("ROLLBACK")
            if not is_conflict(exc) or attempt == _SCHEMA_ATTEMPTS - 1:
                raise
        time.sleep(random.uniform(0.1, 0.5) * (attempt + 1))


def arrow_table(table: Table, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows as an Arrow table with the table's column types (missing keys are null)."""
    schema = pa.schema([(c.name, _ARROW_TYPES[c.type]) for c in table.columns])
    return pa.Table.from_pylist([{c.name: row.get(c.name) for c in table.columns} for row in rows], schema=schema)


def insert_rows(con: duckdb.DuckDBPyConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Append `rows` to `table` (its columns only, missing keys null) in the connection's current database."""
    if rows:
        frame = arrow_table(table, rows)  # noqa: F841 - referenced by name in the SQL below
        con.execute(f"INSERT INTO {qualified(table.name)} BY NAME SELECT * FROM frame")


# Distinct values handed to Python at once by `map_distinct`: what bounds a run's Python memory on long histories.
DISTINCT_BATCH_ROWS = 500_000


def map_distinct(
    con: duckdb.DuckDBPyConnection,
    values_sql: str,
    target: str,
    compute: Callable[[list[str]], pa.Table],
    parameters: dict[str, Any] | None = None,
    batch_rows: int = DISTINCT_BATCH_ROWS,
) -> int:
    """Fill the temporary table `target` with `compute(values)` for every distinct non-null value of `values_sql`
    (a query giving one column `v`), `batch_rows` values at a time; return how many distinct values there were.

    `compute` returns an Arrow table of any rows it keeps for its batch (the same schema each time). The distinct
    values stay in DuckDB, which spills them to disk past its memory limit, so Python holds one batch, never the
    history: scoring or redacting 90 days costs the memory of a few hundred thousand texts.
    """
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _distinct_values AS
        SELECT v, row_number() OVER () AS n FROM (SELECT DISTINCT v FROM ({values_sql}) WHERE v IS NOT NULL)""",
        parameters or {},
    )
    total = con.execute("SELECT count(*) FROM _distinct_values").fetchone()[0]
    con.execute(f"DROP TABLE IF EXISTS {target}")
    for first in range(0, max(total, 1), batch_rows):
        values = (
            con.execute("SELECT v FROM _distinct_values WHERE n > ? AND n <= ?", [first, first + batch_rows])
            .to_arrow_table()
            .column("v")
            .to_pylist()
        )
        batch = compute(values)  # noqa: F841 - referenced by name in the SQL below
        if first == 0:
            con.execute(f"CREATE TEMP TABLE {target} AS SELECT * FROM batch")
        else:
            con.execute(f"INSERT INTO {target} SELECT * FROM batch")
    con.execute("DROP TABLE _distinct_values")
    return total


def _delete_partitions(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    days: list[date],
    where: str = "",
    where_params: list[Any] | None = None,
) -> None:
    con.execute(
        f"DELETE FROM {qualified(table.name)} WHERE {PARTITION_COLUMN} IN (SELECT unnest(?::DATE[])){where}",
        [days, *(where_params or [])],
    )


def replace_rows(
    con: duckdb.DuckDBPyConnection,
    table_name: str,
    days: list[date],
    rows: list[dict[str, Any]],
    where: str = "",
    where_params: list[Any] | None = None,
) -> int:
    """Replace the `days` partitions of `table_name` with `rows` (call inside a transaction); return rows written."""
    table = all_tables()[table_name]
    _delete_partitions(con, table, days, where, where_params)
    insert_rows(con, table, rows)
    return len(rows)


def day_batches(days: Iterable[date], size: int) -> list[list[date]]:
    """`days` in order, cut into batches of consecutive days, at most `size` days each: a gap in the days starts a
    new batch, so that a batch's first..last range holds no day outside `days`."""
    batches: list[list[date]] = []
    for day in sorted(set(days)):
        last = batches[-1] if batches else None
        if last and len(last) < size and (day - last[-1]).days == 1:
            last.append(day)
        else:
            batches.append([day])
    return batches


def replace_from_query(
    con: duckdb.DuckDBPyConnection,
    table_name: str,
    days: list[date],
    sql_name: str,
    parameters: dict[str, Any],
    days_per_query: int,
) -> int:
    """Replace the `days` partitions of `table_name` with the result of `sql/<sql_name>.sql` (call inside a
    transaction); return rows written.

    The query runs once per batch of at most `days_per_query` consecutive days (`day_batches`), with `$start_date`
    and `$end_date` the batch's first and last day plus any other parameter it names: memory follows a batch, not
    the run's history. Rows the query returns outside its batch are an error, so a query cannot overwrite
    partitions it was not asked for.
    """
    table = all_tables()[table_name]
    sql = sql_text(sql_name)
    _delete_partitions(con, table, days)
    written = 0
    for batch in day_batches(days, days_per_query):
        bound = bind(sql, {**parameters, "start_date": batch[0], "end_date": batch[-1]})
        con.execute(f"CREATE OR REPLACE TEMP TABLE _result AS {sql}", bound)
        outside = con.execute(
            f"SELECT count(*) FROM _result WHERE {PARTITION_COLUMN} NOT BETWEEN ? AND ?", [batch[0], batch[-1]]
        ).fetchone()[0]
        if outside:
            raise ValueError(f"{sql_name}.sql returned {outside} rows outside the partitions it was asked to replace")
        con.execute(f"INSERT INTO {qualified(table.name)} BY NAME SELECT * FROM _result")
        written += con.execute("SELECT count(*) FROM _result").fetchone()[0]
    con.execute("DROP TABLE IF EXISTS _result")
    return written


def record_audit(
    con: duckdb.DuckDBPyConnection, run_id: str, asset: str, day_rows: dict[date, dict[str, Any]], code_version: str
) -> None:
    """Replace this run's audit rows for `asset` on each day with `day_rows` (inputs, counts, rows written)."""
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    rows = [
        {
            "run_id": run_id,
            "asset": asset,
            "partition_date": day,
            "finished_at": now,
            "code_version": code_version,
            **{k: (json.dumps(v) if isinstance(v, list | dict) else v) for k, v in values.items()},
        }
        for day, values in day_rows.items()
    ]
    replace_rows(con, "audit.runs", list(day_rows), rows, " AND run_id = ? AND asset = ?", [run_id, asset])


def ensure_published_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the published variant (`published_table`) of every published table, with its comments, and the macros
    in the connection's current database."""
    con.execute("BEGIN TRANSACTION")  # one commit instead of one per statement: seconds less
    _create_tables(con, [v for v in map(published_table, all_tables().values()) if v is not None])
    con.execute(sql_text("setup/macros"))
    con.execute("COMMIT")


def belongs_to(columns: Iterable[str], records: str, kinds: set[str]) -> str | None:
    """SQL condition true for a row (with `columns`) that one of the (id_column, id) pairs of the relation `records`
    names, such as `customer_records(...)`; `kinds` are the id_column values it holds. None when no column of the
    row can tell, so that every row stays."""
    tests = [f"\"{c}\" IN (SELECT id FROM {records} WHERE id_column = '{c}')" for c in columns if c in kinds]
    return f"coalesce({' OR '.join(tests)}, FALSE)" if tests else None


def id_columns(con: duckdb.DuckDBPyConnection, records: str) -> set[str]:
    """The id_column values the (id_column, id) relation `records` holds."""
    return {row[0] for row in con.execute(f"SELECT DISTINCT id_column FROM {records}").fetchall()}


def staging_path(published: Path) -> Path:
    """Where a new published file is built, beside `published`, after removing any a killed publisher left there
    (call holding the write lock)."""
    files = database_files(published)
    published.parent.mkdir(parents=True, exist_ok=True)
    for leftover in files.stale_stagings():
        leftover.unlink()
    return files.staging(os.getpid())


def replace_file(staging: Path, published: Path) -> Path:
    """Make the closed file `staging` durable and rename it over `published` in one step."""
    with open(staging, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(staging, published)
    return published


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def publish(working: Path, published: Path) -> Path:
    """Atomically replace `published` with the analysts' file built from the working file `working` (call holding
    the write lock); see `publish_from`."""
    with duckdb.connect(str(working)) as con:
        return publish_from(con, published)


def publish_from(con: duckdb.DuckDBPyConnection, published: Path) -> Path:
    """Atomically replace `published` with the analysts' file built from the connection's current database (the
    working file or the DuckLake; call holding the write lock, which also keeps publishers of one file apart).

    The analysts' file holds the published variant of every table (`published_table`: no clear customer, agent or
    device id, no field marked `published: false`, no working-only table), without the rows of customers who refuse
    analytics consent (`main.refused_records`), with every comment and the macros. It is built with SQL beside the
    target and renamed over it, so a reader opening `published` sees either the previous or the new file, never a
    partial one; readers that already have it open keep their snapshot, and a crash leaves the previous file.
    """
    staging = staging_path(published)
    tables = [(table, published_table(table)) for table in all_tables().values()]
    ensure_schema(con)
    source = con.execute("SELECT current_database()").fetchone()[0]
    con.execute(f"ATTACH {_sql_string(str(staging))} AS published")
    con.execute("USE published")
    ensure_published_schema(con)
    con.execute(f'USE "{source}"')
    # one snapshot of the source for every table, so that a DuckLake written meanwhile publishes consistently
    con.execute("BEGIN TRANSACTION")
    con.execute("CREATE OR REPLACE TEMP TABLE _refused AS SELECT * FROM main.refused_records")
    refused = id_columns(con, "_refused")
    for table, variant in tables:
        if variant is None:
            continue
        columns = ", ".join(f'"{c}"' for c in variant.column_names)
        left_out = belongs_to(table.column_names, "_refused", refused)
        where = f" WHERE NOT {left_out}" if left_out else ""
        con.execute(
            f"INSERT INTO published.{qualified(table.name)} ({columns})"
            f" SELECT {columns} FROM {qualified(table.name)}{where}"
        )
    con.execute("DROP TABLE _refused")
    con.execute("COMMIT")
    con.execute("CHECKPOINT published")
    con.execute("DETACH published")
    return replace_file(staging, published)


def table_checksums(
    con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...] = ("raw", "signals", "metrics", "quarantine")
) -> dict[str, str]:
    """Per table in `schemas`: row count and an order-independent checksum of every row's content."""
    tables = con.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE schema_name IN (SELECT unnest(?))"
        " ORDER BY 1",
        [list(schemas)],
    ).fetchall()
    return {
        name: "{}:{}".format(
            *con.execute(f"SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) FROM {name} AS t").fetchone()
        )
        for (name,) in tables
    }
