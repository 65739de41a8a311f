"""The SQL assets, built from the table contracts: one asset per contract that names a SQL file (`sql:`).

Each asset replaces its partitions of the table with the result of its SQL file. Its upstream assets are the tables
the SQL reads, parsed by DuckDB (`cx_signals.db.sql_reads`), each over the contract's `window` of days; its
description and grain come from the contract, its column schema from the contract's fields and its code version from
the hash of the SQL file and the shared definitions it uses (the table name and column schema metadata of every table
asset are added in dagster_defs/definitions.py). Adding a SQL table is a contract and a SQL file.
"""

import dagster as dg
import pyarrow as pa
from dagster_duckdb import DuckDBResource

from cx_signals.config import Parameters, cost_model_rows, sql_parameters
from cx_signals.contracts import Contract, table_contracts
from cx_signals.db import ensure_schema, replace_from_query, sql_hash, sql_reads, sql_text
from cx_signals.tables import all_tables
from dagster_defs.assets.raw import asset_key
from dagster_defs.checks import contract_check
from dagster_defs.common import audit_days, partition_days, table_metadata
from dagster_defs.database_resources import WRITER_POOL
from dagster_defs.partitions import single_run

# Schemas whose tables are written by assets; the others (audit, quarantine) are the pipeline's own records.
ASSET_SCHEMAS = ("raw", "signals", "metrics")


def sql_contracts() -> dict[str, Contract]:
    """The table contracts that name a SQL file, by qualified table name."""
    return {name: contract for name, contract in table_contracts().items() if contract.sql}


def upstream_tables(sql_name: str) -> list[str]:
    """The asset tables `sql/<sql_name>.sql` reads (directly or through the shared macros and views), sorted; a table
    of an asset schema that no contract defines is an error, so that a misspelt name cannot drop out of the lineage."""
    reads = sorted(t for t in sql_reads(sql_text(sql_name)).tables if t.split(".")[0] in ASSET_SCHEMAS)
    unknown = [t for t in reads if t not in all_tables()]
    if unknown:
        raise ValueError(f"sql/{sql_name}.sql reads {', '.join(unknown)}, which no contract defines")
    return reads


def upstream_deps(contract: Contract, config: Parameters) -> list[dg.AssetDep]:
    """The dependencies of the asset of `contract`: every table its SQL reads, over the contract's window of days."""
    before, after = contract.window.days(config) if contract.window else (0, 0)
    mapping = None
    if before or after:
        mapping = dg.TimeWindowPartitionMapping(
            start_offset=-before, end_offset=after, allow_nonexistent_upstream_partitions=True
        )
    return [dg.AssetDep(asset_key(t), partition_mapping=mapping) for t in upstream_tables(contract.sql)]


def sql_asset(
    table_name: str, contract: Contract, config: Parameters, partitions: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    """The asset that replaces its partitions of `table_name` with the result of the contract's SQL file, audits
    them and reports row counts and a preview."""
    parameters = sql_parameters(config)
    cost_model = pa.Table.from_pylist(cost_model_rows(config))
    sql_name = contract.sql
    days_per_query = config.storage.days_per_query

    @dg.asset(
        key=asset_key(table_name),
        deps=upstream_deps(contract, config),
        description=f"{all_tables()[table_name].description} (sql/{sql_name}.sql)",
        metadata={"sql": f"sql/{sql_name}.sql"},
        code_version=sql_hash(sql_name)[:16],
        partitions_def=partitions,
        backfill_policy=single_run,
        pool=WRITER_POOL,
        group_name=table_name.split(".")[0],
        kinds={"duckdb"},
    )
    def materialise(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
        days = partition_days(context)
        with duckdb.get_connection() as con:
            ensure_schema(con)
            con.register("cost_model", cost_model)  # the per-channel cost model from the config, for the costs
            con.execute("BEGIN TRANSACTION")
            written = replace_from_query(con, table_name, days, sql_name, parameters, days_per_query)
            audit_days(con, context, table_name, days)
            con.execute("COMMIT")
            con.unregister("cost_model")
            return dg.MaterializeResult(metadata=table_metadata(con, table_name, days, written))

    return materialise


def build_sql_assets(config: Parameters, partitions: dg.PartitionsDefinition) -> tuple[list, list]:
    """One asset and one contract check per table contract naming a SQL file."""
    contracts = sql_contracts()
    assets = [sql_asset(name, contract, config, partitions) for name, contract in contracts.items()]
    return assets, [contract_check(name) for name in contracts]
