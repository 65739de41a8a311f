"""Raw assets: landing files validated against their contracts, deduplicated, redacted and loaded by day."""

from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from cx_signals.contracts import TimeBounds
from cx_signals.db import ensure_schema, record_audit, replace_rows
from cx_signals.ingest import IngestResult, ingest_source
from cx_signals.landing import discover
from cx_signals.privacy import pseudonym_key
from dagster_defs.checks import contract_checks, reconciliation_check
from dagster_defs.common import code_version, partition_days, table_metadata
from dagster_defs.partitions import daily_partitions, single_run
from dagster_defs.resources import WRITER_POOL, CxSettings

SOURCE_TABLES = {
    "transcripts": ("raw.conversations", "raw.turns", "raw.conversation_events"),
    "telemetry": ("raw.telemetry",),
    "events": ("raw.events",),
}


def asset_key(table: str) -> dg.AssetKey:
    """Asset key of a `schema.table` name."""
    return dg.AssetKey(table.split("."))


def _ingest(context: dg.AssetExecutionContext, source: str, duckdb: DuckDBResource, settings: CxSettings):
    days = partition_days(context)
    config = settings.config()
    bounds = TimeBounds.around(
        datetime.now(UTC).replace(tzinfo=None),
        date.fromisoformat(config["partitions"]["start_date"]),
        config["ingest"]["max_future_skew_hours"],
    )
    files = [f for f in discover(Path(settings.landing_dir)) if f.source == source]
    result: IngestResult = ingest_source(
        source,
        files,
        set(days),
        bounds,
        pseudonym_key(settings.key_file),
        max_text_chars=config["ingest"]["max_text_chars"],
    )
    tables = SOURCE_TABLES[source]
    with duckdb.get_connection() as con:
        ensure_schema(con)
        con.execute("BEGIN TRANSACTION")
        written = {table: replace_rows(con, table, days, result.rows.get(table, [])) for table in tables}
        replace_rows(con, "quarantine.rejects", days, result.rejects, " AND source = ?", [source])
        for table in tables:
            record_audit(
                con,
                context.run.run_id,
                table,
                {
                    day: {
                        "inputs": list(result.inputs[day].values()),
                        "records_read": result.counts[day].read,
                        "records_quarantined": result.counts[day].quarantined,
                        "duplicates_removed": result.counts[day].duplicates,
                        "rows_written": sum(1 for r in result.rows.get(table, []) if r["partition_date"] == day),
                    }
                    for day in days
                },
                code_version(),
            )
        con.execute("COMMIT")
        totals = {
            name: sum(getattr(c, name) for c in result.counts.values())
            for name in ("read", "loaded", "quarantined", "duplicates")
        }
        for table in tables:
            yield dg.MaterializeResult(
                asset_key=asset_key(table),
                metadata=table_metadata(
                    con,
                    table,
                    days,
                    written[table],
                    records_read=totals["read"],
                    records_loaded=totals["loaded"],
                    records_quarantined=totals["quarantined"],
                    duplicates_removed=totals["duplicates"],
                    files_read=len({f for inputs in result.inputs.values() for f in inputs}),
                ),
            )


def _ingest_asset(source: str, description: str) -> dg.AssetsDefinition:
    tables = SOURCE_TABLES[source]

    @dg.multi_asset(
        name=f"ingest_{source}",
        specs=[
            dg.AssetSpec(
                asset_key(t),
                group_name="raw",
                kinds={"duckdb"},
                description=description,
                partitions_def=daily_partitions,
            )
            for t in tables
        ],
        partitions_def=daily_partitions,
        backfill_policy=single_run,
        pool=WRITER_POOL,
        can_subset=False,
    )
    def ingest(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CxSettings):
        yield from _ingest(context, source, duckdb, settings)

    return ingest


ingest_transcripts = _ingest_asset(
    "transcripts", "Conversations, turns and in-conversation events from landing/transcripts."
)
ingest_telemetry = _ingest_asset("telemetry", "Product telemetry from landing/telemetry.")
ingest_events = _ingest_asset("events", "Behavioural events from landing/events.")

raw_assets = [ingest_transcripts, ingest_telemetry, ingest_events]
raw_checks = [
    *contract_checks([t for tables in SOURCE_TABLES.values() for t in tables]),
    *(reconciliation_check(source, tables) for source, tables in SOURCE_TABLES.items()),
]
