"""The Dagster code location: `dagster dev` (through workspace.yaml) loads `defs` from here.

Definitions are built from the parameters, read once and validated: the partitions start where the data does
(or at `partitions.start_date`), and every window and threshold the assets, checks and SQL use comes from the
same parameters object.
"""

from contextlib import suppress
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from cx_signals.config import load_config
from cx_signals.ingest import landing_days
from cx_signals.landing import LandingPathError, discover
from cx_signals.paths import database_files
from dagster_defs.assets.metrics import build_metrics
from dagster_defs.assets.models import build_models
from dagster_defs.assets.publish import build_publish
from dagster_defs.assets.raw import build_raw
from dagster_defs.assets.signals import build_signals
from dagster_defs.assets.triage import build_triage
from dagster_defs.jobs import build_jobs
from dagster_defs.partitions import daily_partitions
from dagster_defs.resources import build_resources, environment_locations
from dagster_defs.schedules import build_schedules
from dagster_defs.sensors import build_landing_sensor


def first_partition_day(config: dict[str, Any], data_days: set[date]) -> date:
    """The first daily partition: the earlier of `partitions.start_date` and the first day holding data (today
    when there is neither), so that a configured start never hides data."""
    candidates = set(data_days)
    if config["partitions"]["start_date"]:
        candidates.add(date.fromisoformat(str(config["partitions"]["start_date"])))
    return min(candidates, default=datetime.now(UTC).date())


def build_assets(config: dict[str, Any], partitions: dg.PartitionsDefinition) -> tuple[list, list]:
    """Every asset and asset check of the pipeline, built from `config`."""
    assets: list = []
    checks: list = []
    for build in (build_raw, build_triage, build_signals, build_models, build_metrics):
        built_assets, built_checks = build(config, partitions)
        assets.extend(built_assets)
        checks.extend(built_checks)
    assets.extend(build_publish(config, partitions))
    return assets, checks


def build_definitions(config: dict[str, Any], first_day: date, database: str, landing: str) -> dg.Definitions:
    """The code location for one database and landing folder: assets, checks, jobs, schedules, sensor."""
    partitions = daily_partitions(first_day)
    assets, checks = build_assets(config, partitions)
    pipeline, train = build_jobs()
    return dg.Definitions(
        assets=assets,
        asset_checks=checks,
        jobs=[pipeline, train],
        schedules=build_schedules(pipeline, train, config),
        sensors=[build_landing_sensor(pipeline, config)],
        resources=build_resources(database, landing, config),
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


@dg.definitions
def defs() -> dg.Definitions:
    """The code location configured by CX_SIGNALS_DB, CX_SIGNALS_LANDING and CX_SIGNALS_CONFIG."""
    database, landing, config_file = environment_locations()
    config = load_config(config_file or None)
    data_days = _days_already_loaded(database)
    with suppress(LandingPathError):  # no landing folder yet: the sensor reports it
        data_days |= landing_days(discover(Path(landing)), config)
    return build_definitions(config, first_partition_day(config, data_days), database, landing)
