"""Metric assets: contact outcomes and daily outcomes, each one SQL file."""

import dagster as dg
import pyarrow as pa
from dagster_duckdb import DuckDBResource

from cx_signals.config import cost_model_rows
from dagster_defs.assets.raw import asset_key
from dagster_defs.assets.signals import materialise_query, windowed
from dagster_defs.checks import contract_checks
from dagster_defs.partitions import daily_partitions, single_run
from dagster_defs.resources import WRITER_POOL, CxSettings

_COMMON = {
    "partitions_def": daily_partitions,
    "backfill_policy": single_run,
    "pool": WRITER_POOL,
    "group_name": "metrics",
    "kinds": {"duckdb"},
}


@dg.asset(
    key=asset_key("metrics.contact_outcomes"),
    deps=windowed("signals.conversation_signals", "signals.session_friction", "signals.intent_predictions"),
    description="Containment, repeats, FCR, containment-with-quality, cost and repeat chains per contact "
    "(sql/metrics/contact_outcomes.sql).",
    **_COMMON,
)
def contact_outcomes(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CxSettings):
    cost_model = pa.Table.from_pylist(cost_model_rows(settings.config()))
    return materialise_query(
        context,
        duckdb,
        settings,
        "metrics.contact_outcomes",
        "metrics/contact_outcomes",
        views={"cost_model": cost_model},
    )


@dg.asset(
    key=asset_key("metrics.daily_outcomes"),
    deps=[asset_key("metrics.contact_outcomes")],
    description="Daily rates with 95% Wilson intervals and cost/time medians and p90 per channel and intent "
    "(sql/metrics/daily_outcomes.sql).",
    **_COMMON,
)
def daily_outcomes(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CxSettings):
    return materialise_query(context, duckdb, settings, "metrics.daily_outcomes", "metrics/daily_outcomes")


metric_assets = [contact_outcomes, daily_outcomes]
metric_checks = contract_checks(["metrics.contact_outcomes", "metrics.daily_outcomes"])
