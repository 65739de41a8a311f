"""Raw assets: landing files validated against their contracts, deduplicated, redacted and loaded by day."""

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from cx_signals.config import Parameters
from cx_signals.contracts import TimeBounds, input_contracts
from cx_signals.db import ensure_schema, record_audit
from cx_signals.erasure import assign_reject_customer_keys, drop_erased, erased_customers
from cx_signals.ingest import SOURCE_TABLES, ingest_source, write_rejects, write_rows
from cx_signals.landing import scan
from cx_signals.manifest import LandingManifest
from cx_signals.privacy import pseudonym_key
from cx_signals.redact import redact
from dagster_defs.checks import contract_checks, reconciliation_check
from dagster_defs.common import code_version, partition_days, table_metadata
from dagster_defs.database_resources import WRITER_POOL, CxSettings
from dagster_defs.partitions import single_run


def asset_key(table: str) -> dg.AssetKey:
    """Asset key of a `schema.table` name."""
    return dg.AssetKey(table.split("."))


def _ingest(
    context: dg.AssetExecutionContext,
    source: str,
    duckdb: DuckDBResource,
    settings: CxSettings,
    config: Parameters,
):
    days = partition_days(context)
    bounds = TimeBounds.from_config(config, datetime.now(UTC).replace(tzinfo=None))
    found = scan(Path(settings.landing_dir))
    present = [f for f in found.files if f.source == source]
    # every ignored path, redacted like any stored file name, on each raw asset's audit rows
    ignored = [{"path": redact(i.relative).text, "reason": i.reason} for i in found.ignored]
    key = pseudonym_key(settings.files.key_file)
    tables = SOURCE_TABLES[source]
    manifest = LandingManifest.load(settings.files.manifest(source), key)
    files = manifest.select(present, set(days))
    with duckdb.get_connection() as con:
        ensure_schema(con)
        result = ingest_source(
            source,
            files,
            set(days),
            bounds,
            key,
            max_text_chars=config.ingest.max_text_chars,
            placeholder_ids=config.ingest.placeholder_ids,
            max_line_bytes=config.ingest.max_line_bytes,
            con=con,
            landing=config.landing,
        )
        assign_reject_customer_keys(result, key, config.ingest.placeholder_ids)
        # the landing files still hold erased customers: their records must not come back
        erased = drop_erased(result, erased_customers(con), key)
        per_day = {table: result.rows_written(table) for table in tables}
        con.execute("BEGIN TRANSACTION")
        written = write_rows(con, result, days)
        write_rejects(con, result, days)
        for table in tables:
            record_audit(
                con,
                context.run.run_id,
                table,
                {
                    day: {
                        "inputs": list(result.inputs[day].values()),
                        "ignored_paths": ignored,
                        "records_read": result.counts[day].read,
                        "records_quarantined": result.counts[day].quarantined,
                        "duplicates_removed": result.counts[day].duplicates,
                        "records_erased": erased.get(day, 0),
                        "rows_written": per_day[table].get(day, 0),
                    }
                    for day in days
                },
                code_version(),
            )
        con.execute("COMMIT")
        for file, file_days in result.file_days:
            manifest.record(file, file_days)
        manifest.save(present)
        totals = {
            name: sum(getattr(c, name) for c in result.counts.values())
            for name in ("read", "loaded", "quarantined", "duplicates")
        }
        totals["erased"] = sum(erased.values())
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
                    records_erased=totals["erased"],
                    files_read=len({f for inputs in result.inputs.values() for f in inputs}),
                ),
            )


def _ingest_asset(
    source: str, description: str, config: Parameters, partitions: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    tables = SOURCE_TABLES[source]

    @dg.multi_asset(
        name=f"ingest_{source}",
        specs=[
            dg.AssetSpec(
                asset_key(t),
                group_name="raw",
                kinds={"duckdb"},
                description=description,
                partitions_def=partitions,
            )
            for t in tables
        ],
        partitions_def=partitions,
        backfill_policy=single_run,
        pool=WRITER_POOL,
        can_subset=False,
    )
    def ingest(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CxSettings):
        yield from _ingest(context, source, duckdb, settings, config)

    return ingest


def build_raw(config: Parameters, partitions: dg.PartitionsDefinition) -> tuple[list, list]:
    """One ingest asset per source (input contract) and their contract and reconciliation checks."""
    contracts = input_contracts()
    assets = [
        _ingest_asset(source, f"{contracts[source].description} From landing/{source}.", config, partitions)
        for source in SOURCE_TABLES
    ]
    checks = [
        *contract_checks([t for tables in SOURCE_TABLES.values() for t in tables]),
        *(reconciliation_check(source, tables) for source, tables in SOURCE_TABLES.items()),
    ]
    return assets, checks
