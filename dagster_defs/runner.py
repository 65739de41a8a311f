"""Running the pipeline in-process for a range of days, as `cx-signals run` does."""

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg

from cx_signals.locking import exclusive_lock, lock_path
from dagster_defs.checks import RANGE_END, RANGE_START
from dagster_defs.definitions import all_assets, all_checks
from dagster_defs.resources import build_resources


@dataclass
class RunOutcome:
    """What a pipeline run did: success, run id, the failing step's error, and failed checks."""

    success: bool
    run_id: str
    error: str | None
    failed_checks: list[str]


def run_pipeline(
    landing: Path, database: Path, first: date, last: date, config_file: str = "", log_level: str = "WARNING"
) -> RunOutcome:
    """Materialise every asset for the days first..last in one Dagster run, then check and publish.

    Uses the Dagster instance of $DAGSTER_HOME when set (so runs show in the UI), else an ephemeral one.
    """
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    with exclusive_lock(lock_path(database, "run")):
        result = dg.materialize(
            [*all_assets, *all_checks],
            resources=build_resources(str(database), str(landing), config_file),
            tags={RANGE_START: first.isoformat(), RANGE_END: last.isoformat()},
            instance=instance,
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
            raise_on_error=False,
        )
    error = None
    if not result.success:
        failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        error = (
            "\n".join(
                f"{e.step_key}: {e.step_failure_data.error.message.strip() if e.step_failure_data.error else 'failed'}"
                for e in failures
            )
            or "the run failed (see the Dagster logs above)"
        )
    failed_checks = [
        f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        for evaluation in (
            e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
        )
        if not evaluation.passed
    ]
    return RunOutcome(result.success, result.run_id, error, failed_checks)
