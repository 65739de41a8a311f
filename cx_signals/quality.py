"""Great Expectations suites derived from the contracts, run on pandas frames (GX 1.x ephemeral context)."""

from __future__ import annotations

import os
from dataclasses import dataclass

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx
import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig

from cx_signals.tables import Table


@dataclass(frozen=True)
class QualityResult:
    """Outcome of validating a frame: success, the failed expectations described, and how many ran."""

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


def validate_frame(table: Table, frame: pd.DataFrame) -> QualityResult:
    """Validate `frame` (rows of `table`) against the table's contract with Great Expectations."""
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas("cx_signals")
        .add_dataframe_asset(table.name)
        .add_batch_definition_whole_dataframe("rows")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = context.suites.add(gx.ExpectationSuite(name=f"{table.name}_contract"))
    for expectation in expectations_for(table):
        suite.add_expectation(expectation)
    result = batch.validate(suite)
    failures = []
    for outcome in result.results:
        if not outcome.success:
            config = outcome.expectation_config
            column = config.kwargs.get("column") or config.kwargs.get("column_list") or ""
            unexpected = (outcome.result or {}).get("unexpected_count")
            sample = (outcome.result or {}).get("partial_unexpected_list")
            failures.append(f"{config.type} {column}: {unexpected} unexpected, e.g. {sample}"[:300])
    return QualityResult(bool(result.success), failures, len(result.results))
