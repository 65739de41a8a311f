"""Publishing: retention is enforced on the working tables, then analysts get an atomically replaced file built from
them without clear ids and without customers who refuse analytics consent, never a half-written one.

The working tables are the working file or, with `storage.mode: ducklake`, the DuckLake: the analysts' file is a
local DuckDB file in both modes (the lake holds clear ids and is never given to analysts)."""

from datetime import UTC, datetime

import dagster as dg
from dagster_duckdb import DuckDBResource

from cx_signals.config import Parameters
from cx_signals.db import ensure_schema, publish_from
from cx_signals.locking import exclusive_lock
from cx_signals.report import build_report
from cx_signals.retention import enforce_retention
from dagster_defs.assets.raw import asset_key
from dagster_defs.common import code_version
from dagster_defs.database_resources import WRITER_POOL, CxSettings
from dagster_defs.partitions import single_run


def build_publish(
    config: Parameters, partitions: dg.PartitionsDefinition, after: list[dg.AssetKey]
) -> list[dg.AssetsDefinition]:
    """The retention, published database and HTML report assets; retention runs `after` the given assets (the last
    steps of the pipeline), so publishing follows every table."""
    lock_timeout = float(config.locks.timeout_seconds)
    retention_days = dict(config.retention)
    common = {
        "partitions_def": partitions,
        "backfill_policy": single_run,
        "pool": WRITER_POOL,
        "group_name": "published",
    }

    @dg.asset(
        key=asset_key("published.retention"),
        deps=after,
        kinds={"duckdb"},
        description="Deletes the partitions older than retention.<schema> days before today (UTC) from every "
        "partitioned table of that schema in the working file, so that the published file follows; each table with "
        "rows removed gets an audit.runs row (asset retention:<table>).",
        **common,
    )
    def retention(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
        with duckdb.get_connection() as con:
            ensure_schema(con)
            con.execute("BEGIN TRANSACTION")
            removals = enforce_retention(
                con, retention_days, datetime.now(UTC).date(), context.run.run_id, code_version()
            )
            con.execute("COMMIT")
        return dg.MaterializeResult(
            metadata={
                "settings": ", ".join(f"{k}={v}" for k, v in retention_days.items()),
                "rows_removed": sum(r.rows for r in removals),
                "tables": dg.MetadataValue.md(
                    "\n".join(f"- {r.table}: {r.rows} rows ({r.note})" for r in removals) or "none"
                ),
            }
        )

    @dg.asset(
        key=asset_key("published.database"),
        deps=[asset_key("published.retention")],
        kinds={"duckdb"},
        description="Builds the analysts' file from the working tables (no clear customer, agent or device id, no "
        "working-only field, no customer who refuses analytics consent) and renames it over the published one once "
        "every table of the run is written.",
        **common,
    )
    def published_database(settings: CxSettings, duckdb: DuckDBResource) -> dg.MaterializeResult:
        files = settings.files
        # the write lock also keeps apart the publishers of one file on a DuckLake, where writers take no lock
        with exclusive_lock(files.lock("write"), lock_timeout), duckdb.get_connection() as con:
            target = publish_from(con, files.published)
        return dg.MaterializeResult(
            metadata={"path": dg.MetadataValue.path(str(target)), "size_bytes": target.stat().st_size}
        )

    @dg.asset(
        key=asset_key("published.report"),
        deps=[asset_key("published.database")],
        kinds={"html"},
        description="The self-contained HTML report for CX leaders, written into the database's side folder.",
        **common,
    )
    def published_report(settings: CxSettings) -> dg.MaterializeResult:
        summary = build_report(settings.files.published, settings.files.report, parameters=config)
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(summary.out)),
                "contacts": summary.contacts,
                "period": f"{summary.period_start} .. {summary.period_end}",
                "sections_with_data": ", ".join(k for k, v in summary.sections.items() if v),
            }
        )

    return [retention, published_database, published_report]
