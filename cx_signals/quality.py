"""Great Expectations suites derived from the contracts, run inside DuckDB (GX 1.x SQL data source, ephemeral).

The rows never come into Python: GX sends aggregate queries (counts of unexpected values, a few examples of them)
over a query asset restricted to the partitions being checked, through SQLAlchemy (duckdb-engine) on the file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import duckdb
import great_expectations as gx
from duckdb_engine import ConnectionWrapper
from duckdb_engine import Dialect as DuckDBDialect
from great_expectations.data_context.types.base import ProgressBarsConfig
from sqlalchemy.dialects import registry

from cx_signals.tables import PARTITION_COLUMN, Table, qualified

SAMPLE_SIZE = 5
_DIALECT = "duckdb.cx_autocommit"


class AutocommitDuckDBDialect(DuckDBDialect):
    """duckdb-engine without SQLAlchemy transactions: each statement commits on its own.

    DuckDB keeps a statement's pending result on its connection, and GX fetches a result after handing the
    connection back to the pool, whose ROLLBACK would discard it (GX then sees an empty result). The checks only
    read, under the write lock, so they need no transaction.
    """

    supports_statement_cache = DuckDBDialect.supports_statement_cache

    def do_begin(self, dbapi_connection: Any) -> None:
        """No BEGIN: DuckDB runs each statement in its own transaction."""

    def do_rollback(self, dbapi_connection: Any) -> None:
        """Nothing to roll back (see do_begin)."""


registry.register(_DIALECT, __name__, AutocommitDuckDBDialect.__name__)


@dataclass(frozen=True)
class QualityResult:
    """Outcome of validating rows: success, the failed expectations described, and how many ran."""

    success: bool
    failures: list[str]
    expectations: int


def expectations_for(table: Table) -> list[gx.expectations.Expectation]:
    """The expectations a table's contract implies: columns, not-null, allowed values, ranges, uniqueness."""
    expectations: list[gx.expectations.Expectation] = [
        gx.expectations.ExpectTableColumnsToMatchSet(column_set=table.column_names, exact_match=True)
    ]
    for f in table.checks:
        if f.name not in table.column_names:
            continue
        if f.required:
            expectations.append(gx.expectations.ExpectColumnValuesToNotBeNull(column=f.name))
        if f.allowed is not None:
            expectations.append(gx.expectations.ExpectColumnValuesToBeInSet(column=f.name, value_set=list(f.allowed)))
        if f.range is not None:
            expectations.append(
                gx.expectations.ExpectColumnValuesToBeBetween(column=f.name, min_value=f.range[0], max_value=f.range[1])
            )
        if f.unique:
            expectations.append(gx.expectations.ExpectColumnValuesToBeUnique(column=f.name))
    if len(table.primary_key) > 1:
        expectations.append(gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=list(table.primary_key)))
    return expectations


def partitions_query(table: Table, first: date, last: date) -> str:
    """SELECT of the rows of `table` in the partitions first..last (a GX query asset takes no bound parameters;
    the days are dates, rendered by isoformat)."""
    return (
        f"SELECT * FROM {qualified(table.name)} "
        f"WHERE {PARTITION_COLUMN} BETWEEN DATE '{first.isoformat()}' AND DATE '{last.isoformat()}'"
    )


def _suite(table: Table, expectations: list[gx.expectations.Expectation]) -> gx.ExpectationSuite:
    # not added to the context: its store would serialise the whole suite again on every expectation added
    return gx.ExpectationSuite(name=f"{table.name}_contract", expectations=expectations)


def _describe(outcome: Any) -> str:
    config, result = outcome.expectation_config, outcome.result or {}
    column = config.kwargs.get("column") or config.kwargs.get("column_list") or ""
    info = outcome.exception_info or {}
    # GX reports an error either at the top level or per metric it could not compute
    raised = [e for e in (info, *(v for v in info.values() if isinstance(v, dict))) if e.get("raised_exception")]
    if raised:
        return f"{config.type} {column}: could not run ({raised[0].get('exception_message')})"[:300]
    if "unexpected_count" not in result:
        return f"{config.type} {column}: observed {result.get('observed_value')}"[:300]
    sample = (result.get("partial_unexpected_list") or [])[:SAMPLE_SIZE]
    return (
        f"{config.type} {column}: {result['unexpected_count']} unexpected of {result.get('element_count')}, "
        f"e.g. {sample}"
    )[:300]


def validate_partitions(
    table: Table, connect: Callable[[], duckdb.DuckDBPyConnection], first: date, last: date
) -> QualityResult:
    """Validate the rows of `table` in partitions first..last against the table's contract, inside DuckDB.

    `connect` opens a (read-only) connection on which `table` resolves; GX opens as many as it needs and they are
    all closed before this returns.
    """
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_sql(
        "cx_signals",
        connection_string=f"{_DIALECT.replace('.', '+')}://",
        kwargs={"creator": lambda: ConnectionWrapper(connect())},
    )
    try:
        batch = (
            source.add_query_asset(table.name, query=partitions_query(table, first, last))
            .add_batch_definition_whole_table("rows")
            .get_batch()
        )
        # A pass, the usual outcome, needs no counts or examples (their queries double the time): ask for them only
        # for the expectations that failed.
        verdict = batch.validate(_suite(table, expectations_for(table)), result_format="BOOLEAN_ONLY")
        failed = [outcome.expectation_config.to_domain_obj() for outcome in verdict.results if not outcome.success]
        details = batch.validate(_suite(table, failed), result_format="BASIC").results if failed else []
    finally:
        # both engines GX made (one to test the connection, one to validate): their pools hold the file open
        source.get_engine().dispose()
        source.get_execution_engine().close()
    return QualityResult(bool(verdict.success), [_describe(outcome) for outcome in details], len(verdict.results))
