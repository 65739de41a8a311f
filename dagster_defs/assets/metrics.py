"""Metric assets: contact outcomes, daily outcomes, journey priorities, agent days and anomalies, each one SQL file."""

from typing import Any

import dagster as dg
import pyarrow as pa

from cx_signals.config import cost_model_rows
from dagster_defs.assets.raw import asset_key
from dagster_defs.assets.signals import chain_window, common_settings, query_asset, windowed
from dagster_defs.checks import contract_checks


def _lookback(days: int) -> dg.TimeWindowPartitionMapping:
    """Depend on the `days` partitions before each partition, and itself."""
    return dg.TimeWindowPartitionMapping(start_offset=-days, end_offset=0, allow_nonexistent_upstream_partitions=True)


def build_metrics(config: dict[str, Any], partitions: dg.PartitionsDefinition) -> tuple[list, list]:
    """The metric assets and their contract checks."""
    common = common_settings(partitions, "metrics")
    cost_model = {"cost_model": pa.Table.from_pylist(cost_model_rows(config))}
    assets = [
        query_asset(
            "metrics.contact_outcomes",
            "metrics/contact_outcomes",
            windowed(
                chain_window(config),
                "signals.conversation_signals",
                "signals.session_friction",
                "signals.intent_predictions",
                "signals.csat_predictions",
            ),
            "Containment, repeats, FCR, containment-with-quality, cost and repeat chains per contact "
            "(sql/metrics/contact_outcomes.sql).",
            config,
            common,
            views=cost_model,
        ),
        query_asset(
            "metrics.daily_outcomes",
            "metrics/daily_outcomes",
            [asset_key("metrics.contact_outcomes")],
            "Daily rates with 95% Wilson intervals and cost/time medians and p90 per channel and intent "
            "(sql/metrics/daily_outcomes.sql).",
            config,
            common,
        ),
        query_asset(
            "metrics.journey_priorities",
            "metrics/journey_priorities",
            [
                dg.AssetDep(
                    asset_key("metrics.contact_outcomes"),
                    partition_mapping=_lookback(config["priorities"]["window_days"] - 1),
                )
            ],
            "Per intent, the decision framework with its inputs visible: cross-team handoffs, repeatability, "
            "measurable outcome; ranked to fix first (sql/metrics/journey_priorities.sql).",
            config,
            common,
        ),
        query_asset(
            "metrics.agent_daily",
            "metrics/agent_daily",
            [
                asset_key("metrics.contact_outcomes"),
                asset_key("signals.conversation_signals"),
                asset_key("raw.turns"),
                asset_key("raw.conversation_events"),
            ],
            "Per pseudonymous agent and day: handle time, sentiment lift, escalations, transfers, repeat rate "
            "(sql/metrics/agent_daily.sql).",
            config,
            common,
            views=cost_model,
        ),
        query_asset(
            "metrics.outcome_anomalies",
            "metrics/outcome_anomalies",
            [
                dg.AssetDep(asset_key(t), partition_mapping=_lookback(config["anomalies"]["baseline_days"]))
                for t in ("metrics.daily_outcomes", "metrics.contact_outcomes")
            ],
            "Days whose containment, containment-with-quality or cost-to-resolve leave their recent range, "
            "with the size of the move (sql/metrics/outcome_anomalies.sql).",
            config,
            common,
        ),
    ]
    checks = contract_checks(
        [
            "metrics.contact_outcomes",
            "metrics.daily_outcomes",
            "metrics.journey_priorities",
            "metrics.agent_daily",
            "metrics.outcome_anomalies",
        ]
    )
    return assets, checks
