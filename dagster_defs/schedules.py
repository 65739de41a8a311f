"""Schedule: yesterday's partition (UTC) every day at 02:00 UTC, after late-arriving files have landed."""

import dagster as dg

from dagster_defs.jobs import cx_pipeline

daily_schedule = dg.build_schedule_from_partitioned_job(cx_pipeline, hour_of_day=2, minute_of_hour=0)
