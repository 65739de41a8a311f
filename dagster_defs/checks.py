"""Asset checks: Great Expectations suites generated from the contracts, and ingest count reconciliation."""

from contextlib import nullcontext
from datetime import date
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from cx_signals.db import sql_text
from cx_signals.locking import exclusive_lock
from cx_signals.quality import validate_partitions
from cx_signals.storage import connect
from cx_signals.tables import PARTITION_COLUMN, all_tables, qualified
from dagster_defs.database_resources import WRITER_POOL, LockedDuckDBResource

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def _key(table: str) -> dg.AssetKey:
    return dg.AssetKey(table.split("."))


def checked_days(context: dg.AssetCheckExecutionContext, con, table: str) -> tuple[date, date] | None:
    """The partitions this run wrote (from its tags), else the table's latest partition."""
    tags = context.run.tags
    if RANGE_START in tags:
        return date.fromisoformat(tags[RANGE_START]), date.fromisoformat(tags[RANGE_END])
    if "dagster/partition" in tags:
        day = date.fromisoformat(tags["dagster/partition"])
        return day, day
    latest = con.execute(f"SELECT max({PARTITION_COLUMN}) FROM {qualified(table)}").fetchone()[0]
    return (latest, latest) if latest else None


def contract_check(table_name: str) -> dg.AssetChecksDefinition:
    """A blocking check that validates the run's partitions of `table_name` against its contract with GX, inside
    DuckDB: when it fails, nothing downstream of the table runs."""
    table = all_tables()[table_name]

    @dg.asset_check(
        asset=_key(table_name),
        name="matches_contract",
        pool=WRITER_POOL,
        # A table failing its contract stops every step after it, publishing included: the analysts keep the
        # previous published file, and the run fails with the check's failures.
        blocking=True,
        description=f"Great Expectations suite generated from the contract of {table_name}, run inside DuckDB.",
    )
    def check(context: dg.AssetCheckExecutionContext, duckdb: LockedDuckDBResource) -> dg.AssetCheckResult:
        # GX opens its own read-only connections. DuckDB refuses a second opener of a file with another
        # configuration in one process, so the resource's connection is closed first; the (re-entrant) write lock
        # stays held meanwhile, so that no writer changes the rows under the check.
        storage = duckdb.storage
        lock = nullcontext() if storage.lake else exclusive_lock(Path(duckdb.lock_file), duckdb.lock_timeout_seconds)
        with lock:
            with duckdb.get_connection() as con:
                days = checked_days(context, con, table_name)
                if days is None:
                    return dg.AssetCheckResult(passed=True, metadata={"rows_checked": 0})
                rows = con.execute(
                    f"SELECT count(*) FROM {qualified(table_name)} WHERE {PARTITION_COLUMN} BETWEEN ? AND ?", list(days)
                ).fetchone()[0]
            # the checks' connections get the run's DuckDB settings (memory_limit): without them a read-only
            # instance takes DuckDB's default of 80% of the machine's memory (3.9 GiB in a 90-day check of raw.turns)
            settings = duckdb.connection_config

            def reader():
                return connect(storage, Path(duckdb.database), read_only=True, settings=settings)

            result = validate_partitions(table, reader, *days)
        return dg.AssetCheckResult(
            passed=result.success,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "rows_checked": rows,
                "expectations": result.expectations,
                "failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in result.failures) or "none"),
                "partitions": f"{days[0]} .. {days[1]}",
            },
        )

    return check


def contract_checks(tables: list[str]) -> list[dg.AssetChecksDefinition]:
    """Contract checks for several tables."""
    return [contract_check(t) for t in tables]


def reconciliation_check(source: str, tables: tuple[str, ...]) -> dg.AssetChecksDefinition:
    """Check that records read = loaded + quarantined + duplicates + erased (dropped because their customer was
    erased) for every day this run ingested, and that the loaded and quarantined counts match the rows actually in
    the raw table and in quarantine."""
    primary = tables[0]

    @dg.asset_check(
        asset=_key(primary),
        name="counts_reconcile",
        pool=WRITER_POOL,
        blocking=True,
        description=f"{source}: read = loaded + quarantined + duplicates removed + erased, matching the tables.",
    )
    def check(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource) -> dg.AssetCheckResult:
        with duckdb.get_connection() as con:
            rows = con.execute(
                sql_text("checks/counts_reconcile"), {"table": primary, "source": source, "run_id": context.run.run_id}
            ).fetchall()
        broken = [
            f"{day}: read {read} vs loaded {loaded} + quarantined {quarantined} + duplicates {duplicates} + erased "
            f"{erased}; table has {in_table}, quarantine has {in_quarantine}"
            for day, read, loaded, quarantined, duplicates, erased, in_table, in_quarantine in rows
            if read != loaded + quarantined + duplicates + erased or loaded != in_table or quarantined != in_quarantine
        ]
        return dg.AssetCheckResult(
            passed=bool(rows) and not broken,
            metadata={
                "days_checked": len(rows),
                "records_read": sum(r[1] for r in rows),
                "problems": dg.MetadataValue.md("\n".join(f"- {b}" for b in broken) or "none"),
            },
        )

    return check
