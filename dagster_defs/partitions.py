"""Daily (UTC) partitions shared by every time-based asset."""

import dagster as dg

from cx_signals.config import load_config

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=load_config()["partitions"]["start_date"], timezone="UTC", end_offset=1
)

# One run processes a whole range of days: a backfill or `cx-signals run` is one run, not one per day.
single_run = dg.BackfillPolicy.single_run()
