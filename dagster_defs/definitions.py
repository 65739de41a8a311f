"""The Dagster code location: `dagster dev` (through workspace.yaml) loads `defs` from here.

Definitions are built from the parameters, read once and validated: the partitions start where the data does
(or at `partitions.start_date`), and every window and threshold the assets, checks and SQL use comes from the
same parameters object. Every run, whatever starts it (schedule, sensor, backfill, UI, `dagster asset materialize`,
`cx-signals run`), executes its steps one after the other in one process: see docs/operations.md.
"""

from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path

import dagster as dg
import duckdb

from cx_signals.config import ConfigError, Parameters, load_config
from cx_signals.contracts import input_contracts
from cx_signals.ingest import landing_days
from cx_signals.landing import LandingPathError, discover
from cx_signals.paths import database_files
from cx_signals.storage import Storage
from cx_signals.tables import all_tables
from dagster_defs.assets.categories import build_categories, build_rescore_job
from dagster_defs.assets.models import build_models
from dagster_defs.assets.publish import build_publish
from dagster_defs.assets.raw import SOURCE_TABLES, asset_key, build_raw
from dagster_defs.assets.signals import build_signals
from dagster_defs.assets.sql_tables import build_sql_assets
from dagster_defs.assets.topics import build_topics
from dagster_defs.assets.triage import build_triage
from dagster_defs.database_resources import build_resources, environment_locations
from dagster_defs.jobs import build_jobs
from dagster_defs.partitions import daily_partitions, window_reach
from dagster_defs.schedules import build_schedules
from dagster_defs.sensors import build_landing_sensor, landing_asset_key


def first_partition_day(config: Parameters, data_days: set[date]) -> date:
    """The first daily partition: the earlier of `partitions.start_date` and the first day holding data (today
    when there is neither), so that a configured start never hides data."""
    candidates = set(data_days)
    if config.partitions.start_date:
        candidates.add(date.fromisoformat(str(config.partitions.start_date)))
    return min(candidates, default=datetime.now(UTC).date())


def freshness_policy(config: Parameters, source: str) -> dg.FreshnessPolicy | None:
    """The freshness policy of `source`: warn and fail after `freshness.warn_hours` and `freshness.fail_hours`
    without new files (its landing asset) or without a load (its raw assets). None when the source has no hours
    (null, the default of `actions`: operators' actions come when there is something to act on, so days without
    any are normal and must not warn)."""
    warn, fail = (config.freshness[kind].get(source) for kind in ("warn_hours", "fail_hours"))
    if warn is None and fail is None:
        return None
    if warn is None or fail is None:
        raise ConfigError(
            f"parameters 'freshness.warn_hours.{source}' and 'freshness.fail_hours.{source}' must both be set or "
            "both be null"
        )
    if not 1 / 60 <= warn < fail:  # Dagster's own limits: windows of a minute at least, warning before failing
        raise ConfigError(
            f"parameter 'freshness.warn_hours.{source}' ({warn}) must be at least 1/60 and less than "
            f"'freshness.fail_hours.{source}' ({fail})"
        )
    return dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=fail), warn_window=timedelta(hours=warn))


def landing_assets(config: Parameters) -> list[dg.AssetSpec]:
    """One external asset per source: the landing sensor reports a materialisation of it when files of the source
    are new or changed, so its freshness policy warns when the source stops arriving."""
    contracts = input_contracts()

    def schema(source: str) -> dg.TableSchema:
        return dg.TableSchema(
            columns=[dg.TableColumn(f.name, f.type, description=f.description) for f in contracts[source].fields]
        )

    return [
        dg.AssetSpec(
            landing_asset_key(source),
            group_name="landing",
            description=f"The files under landing/{source}/, as the landing sensor sees them arrive: "
            f"{contracts[source].description}",
            freshness_policy=freshness_policy(config, source),
            metadata={"dagster/column_schema": schema(source)},
        )
        for source in SOURCE_TABLES
    ]


def with_sources(assets: list, config: Parameters) -> list:
    """`assets` with each raw asset depending on its source's landing asset and carrying its freshness policy, so
    that a source that is not loaded shows as late too (the schedule alone, without the sensor)."""
    sources = {asset_key(table): source for source, tables in SOURCE_TABLES.items() for table in tables}
    policies = {source: freshness_policy(config, source) for source in SOURCE_TABLES}

    def attach(spec: dg.AssetSpec) -> dg.AssetSpec:
        if spec.key not in sources:
            return spec
        source = sources[spec.key]
        with_dep = spec.merge_attributes(deps=[landing_asset_key(source)])
        policy = policies[source]
        return with_dep if policy is None else dg.apply_freshness_policy(with_dep, policy)

    return dg.map_asset_specs(attach, assets)


def with_table_metadata(assets: list) -> list:
    """`assets` with every table asset carrying its table name, column schema (names, DuckDB types and
    descriptions) and description from the contracts, shown in the UI (the three raw tables of the transcripts'
    one ingest step each get their own)."""
    tables = all_tables()

    def attach(spec: dg.AssetSpec) -> dg.AssetSpec:
        name = ".".join(spec.key.path)
        if name not in tables:
            return spec
        table = tables[name]
        columns = [dg.TableColumn(c.name, c.type, description=c.description) for c in table.columns]
        return spec.replace_attributes(description=table.description).merge_attributes(
            metadata={"dagster/table_name": name, "dagster/column_schema": dg.TableSchema(columns=columns)}
        )

    return dg.map_asset_specs(attach, assets)


def leaves(assets: list[dg.AssetsDefinition]) -> list[dg.AssetKey]:
    """The keys of `assets` that no other of them depends on: the last steps before publishing."""
    upstream = {dep for a in assets for deps in a.asset_deps.values() for dep in deps}
    return sorted({key for a in assets for key in a.keys} - upstream)


def build_assets(config: Parameters, partitions: dg.PartitionsDefinition) -> tuple[list, list]:
    """Every asset and asset check of the pipeline, built from `config`."""
    assets: list = []
    checks: list = []
    builds = (build_raw, build_triage, build_topics, build_signals, build_sql_assets, build_models, build_categories)
    for build in builds:
        built_assets, built_checks = build(config, partitions)
        assets.extend(built_assets)
        checks.extend(built_checks)
    assets.extend(build_publish(config, partitions, leaves(assets)))
    return with_table_metadata(with_sources(assets, config)), checks


def build_definitions(config: Parameters, first_day: date, database: str, landing: str) -> dg.Definitions:
    """The code location for one database and landing folder: assets, checks, jobs, schedules, sensor.

    Every job, the implicit one of the UI's and `dagster asset materialize`'s asset runs included, uses the
    in-process executor on the DuckDB file: the steps write one file under one lock, so they run one at a time
    anyway, and a process per step (the default) spent far longer importing and waiting for the lock than working.
    On a DuckLake, which takes concurrent writers, steps run in processes of their own, in parallel where the graph
    allows (docs/scaling.md).
    """
    partitions = daily_partitions(first_day)
    assets, checks = build_assets(config, partitions)
    pipeline, train = build_jobs()
    return dg.Definitions(
        assets=[*landing_assets(config), *assets],
        asset_checks=checks,
        jobs=[pipeline, train, build_rescore_job()],
        schedules=build_schedules(pipeline, train, config),
        sensors=[build_landing_sensor(pipeline, config, window_reach(assets))],
        resources=build_resources(database, landing, config),
        executor=dg.multiprocess_executor if Storage.from_config(config).lake else dg.in_process_executor,
    )


def _days_already_loaded(database: str) -> set[date]:
    published = database_files(database).published
    if not published.exists():
        return set()
    try:
        with duckdb.connect(str(published), read_only=True) as con:
            first = con.execute("SELECT min(partition_date) FROM audit.runs").fetchone()[0]
    except duckdb.Error:
        return set()
    return {first} if first else set()


@cache
def _location(database: str, landing: str, config_file: str) -> dg.Definitions:
    # Built once per process: Dagster loads the code location several times per run (seven for one
    # `dagster asset materialize`), and each build reads the landing files for the first day.
    config = load_config(config_file or None)
    data_days = _days_already_loaded(database)
    with suppress(LandingPathError):  # no landing folder yet: the sensor reports it
        data_days |= landing_days(discover(Path(landing)), config)
    return build_definitions(config, first_partition_day(config, data_days), database, landing)


@dg.definitions
def defs() -> dg.Definitions:
    """The code location configured by CX_SIGNALS_DB, CX_SIGNALS_LANDING and CX_SIGNALS_CONFIG."""
    return _location(*environment_locations())
