"""Metric assets: contact outcomes and daily outcomes, each one SQL file."""

import dagster as dg
import pyarrow as pa
from dagster_duckdb import DuckDBResource

from cx_signals.config import cost_model_rows, load_config
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
    deps=windowed(
        "signals.conversation_signals",
        "signals.session_friction",
        "signals.intent_predictions",
        "signals.csat_predictions",
    ),
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


def _lookback(days: int) -> dg.TimeWindowPartitionMapping:
    """Depend on the `days` partitions before each partition, and itself."""
    return dg.TimeWindowPartitionMapping(start_offset=-days, end_offset=0, allow_nonexistent_upstream_partitions=True)


_CONFIG = load_config()


@dg.asset(
    key=asset_key("metrics.journey_priorities"),
    deps=[
        dg.AssetDep(
            asset_key("metrics.contact_outcomes"),
            partition_mapping=_lookback(_CONFIG["priorities"]["window_days"] - 1),
        )
    ],
    description="Per intent, the decision framework with its inputs visible: cross-team handoffs, repeatability, "
    "measurable outcome; ranked to fix first (sql/metrics/journey_priorities.sql).",
    **_COMMON,
)
def journey_priorities(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CxSettings):
    return materialise_query(context, duckdb, settings, "metrics.journey_priorities", "metrics/journey_priorities")


@dg.asset(
    key=asset_key("metrics.agent_daily"),
    deps=[
        asset_key("metrics.contact_outcomes"),
        asset_key("signals.conversation_signals"),
        asset_key("raw.turns"),
        asset_key("raw.conversation_events"),
    ],
    description="Per pseudonymous agent and day: handle time, sentiment lift, escalations, transfers, repeat rate "
    "(sql/metrics/agent_daily.sql).",
    **_COMMON,
)
def agent_daily(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CxSettings):
    cost_model = pa.Table.from_pylist(cost_model_rows(settings.config()))
    return materialise_query(
        context, duckdb, settings, "metrics.agent_daily", "metrics/agent_daily", views={"cost_model": cost_model}
    )


@dg.asset(
    key=asset_key("metrics.outcome_anomalies"),
    deps=[
        dg.AssetDep(asset_key(t), partition_mapping=_lookback(_CONFIG["anomalies"]["baseline_days"]))
        for t in ("metrics.daily_outcomes", "metrics.contact_outcomes")
    ],
    description="Days whose containment, containment-with-quality or cost-to-resolve leave their recent range, "
    "with the size of the move (sql/metrics/outcome_anomalies.sql).",
    **_COMMON,
)
def outcome_anomalies(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CxSettings):
    return materialise_query(context, duckdb, settings, "metrics.outcome_anomalies", "metrics/outcome_anomalies")


metric_assets = [contact_outcomes, daily_outcomes, journey_priorities, agent_daily, outcome_anomalies]
metric_checks = contract_checks(
    [
        "metrics.contact_outcomes",
        "metrics.daily_outcomes",
        "metrics.journey_priorities",
        "metrics.agent_daily",
        "metrics.outcome_anomalies",
    ]
)
