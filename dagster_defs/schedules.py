"""Schedules: yesterday's partition every day at 02:00 UTC, and model retraining on its own cadence."""

from datetime import timedelta

import dagster as dg

from cx_signals.config import Parameters
from dagster_defs.common import TRAIN_TAG
from dagster_defs.jobs import AssetJob


def build_schedules(pipeline: AssetJob, train: AssetJob, config: Parameters) -> list[dg.ScheduleDefinition]:
    """The daily pipeline schedule (after late-arriving files have landed) and the training schedule
    (`models.training_cron`), which retrains every model on the days up to yesterday."""
    daily = dg.build_schedule_from_partitioned_job(pipeline, hour_of_day=2, minute_of_hour=0)

    @dg.schedule(
        job=train,
        cron_schedule=config.models.training_cron,
        execution_timezone="UTC",
        name="cx_training_schedule",
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )
    def training(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        yesterday = (context.scheduled_execution_time - timedelta(days=1)).date()
        return dg.RunRequest(partition_key=yesterday.isoformat(), tags={TRAIN_TAG: "force"})

    return [daily, training]
