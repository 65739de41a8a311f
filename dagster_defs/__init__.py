"""Dagster orchestration for cx-signals: assets, checks, partitions, schedules, sensors and resources."""
