"""Sensor on the landing folder: new or changed files trigger one run over the days they hold."""

import hashlib
import json
from pathlib import Path

import dagster as dg

from cx_signals.ingest import landing_days
from cx_signals.landing import LandingPathError, discover
from dagster_defs.checks import RANGE_END, RANGE_START
from dagster_defs.jobs import AssetJob
from dagster_defs.partitions import DATA_DAYS_TAG, day_spans
from dagster_defs.resources import CxSettings


def build_landing_sensor(job: AssetJob, config: dict) -> dg.SensorDefinition:
    """The landing sensor for `job`, reading days with the pipeline's parameters."""

    @dg.sensor(
        job=job,
        name="landing_sensor",
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Starts a run for the days covered by landing files it has not seen (by SHA-256).",
    )
    def landing_sensor(context: dg.SensorEvaluationContext, settings: CxSettings) -> dg.SensorResult:
        seen = set(json.loads(context.cursor)) if context.cursor else set()
        try:
            files = discover(Path(settings.landing_dir))
        except LandingPathError as exc:
            return dg.SensorResult(skip_reason=str(exc))
        new = [f for f in files if f.sha256 not in seen]
        if not new:
            return dg.SensorResult(skip_reason="no new landing files")
        days = sorted(landing_days(new, config))
        cursor = json.dumps(sorted(seen | {f.sha256 for f in new}))
        if not days:
            return dg.SensorResult(skip_reason="new files hold no dated records", cursor=cursor)
        # unreadable files carry a path-based placeholder instead of a content hash, so key on both
        run_key = (
            "landing:" + hashlib.sha256("\n".join(sorted(f"{f.relative}:{f.sha256}" for f in new)).encode()).hexdigest()
        )
        tags = {RANGE_START: str(days[0]), RANGE_END: str(days[-1]), DATA_DAYS_TAG: day_spans(days)}
        return dg.SensorResult(run_requests=[dg.RunRequest(run_key=run_key, tags=tags)], cursor=cursor)

    return landing_sensor
