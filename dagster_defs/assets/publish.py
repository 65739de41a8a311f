"""Publishing: analysts read an atomically replaced copy of the working database, never a half-written one."""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from cx_signals.db import publish
from cx_signals.locking import exclusive_lock, lock_path
from cx_signals.report import build_report
from dagster_defs.assets.raw import asset_key
from dagster_defs.partitions import daily_partitions, single_run
from dagster_defs.resources import WRITER_POOL, CxSettings


@dg.asset(
    key=asset_key("published.database"),
    deps=[
        asset_key(t)
        for t in (
            "metrics.daily_outcomes",
            "metrics.journey_priorities",
            "metrics.agent_daily",
            "metrics.outcome_anomalies",
            "metrics.repeat_risk",
            "signals.journeys",
            "signals.friction_alerts",
        )
    ],
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool=WRITER_POOL,
    group_name="published",
    kinds={"duckdb"},
    description="Copies the working DuckDB file over the published one in a single rename once every table of "
    "the run is written.",
)
def published_database(duckdb: DuckDBResource, settings: CxSettings) -> dg.MaterializeResult:
    working = Path(duckdb.database)
    with exclusive_lock(lock_path(working, "write")):
        target = publish(working, settings.published_path)
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(target)), "size_bytes": target.stat().st_size}
    )


@dg.asset(
    key=asset_key("published.report"),
    deps=[asset_key("published.database")],
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool=WRITER_POOL,
    group_name="published",
    kinds={"html"},
    description="The self-contained HTML report for CX leaders, written beside the published database.",
)
def published_report(settings: CxSettings) -> dg.MaterializeResult:
    out = settings.published_path.with_name("report.html")
    summary = build_report(settings.published_path, out)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(summary.out)),
            "contacts": summary.contacts,
            "period": f"{summary.period_start} .. {summary.period_end}",
            "sections_with_data": ", ".join(k for k, v in summary.sections.items() if v),
        }
    )
