"""The pipeline job: every partitioned asset from landing files to the published database."""

import dagster as dg

from dagster_defs.partitions import daily_partitions

cx_pipeline = dg.define_asset_job(
    "cx_pipeline",
    selection=dg.AssetSelection.all(),
    partitions_def=daily_partitions,
    description="Ingest, signals, metrics and publish for a day or a range of days.",
)
