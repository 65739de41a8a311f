"""The Dagster code location: `dagster dev` (through workspace.yaml) loads `defs` from here."""

import dagster as dg

from dagster_defs.assets.metrics import metric_assets, metric_checks
from dagster_defs.assets.models import model_assets, model_checks
from dagster_defs.assets.publish import published_database, published_report
from dagster_defs.assets.raw import raw_assets, raw_checks
from dagster_defs.assets.signals import signal_assets, signal_checks
from dagster_defs.assets.triage import triage_assets, triage_checks
from dagster_defs.jobs import cx_pipeline
from dagster_defs.resources import resources_from_environment
from dagster_defs.schedules import daily_schedule
from dagster_defs.sensors import landing_sensor

all_assets = [
    *raw_assets,
    *triage_assets,
    *signal_assets,
    *model_assets,
    *metric_assets,
    published_database,
    published_report,
]
all_checks = [*raw_checks, *triage_checks, *signal_checks, *model_checks, *metric_checks]

defs = dg.Definitions(
    assets=all_assets,
    asset_checks=all_checks,
    jobs=[cx_pipeline],
    schedules=[daily_schedule],
    sensors=[landing_sensor],
    resources=resources_from_environment(),
)
