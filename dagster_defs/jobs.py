"""The jobs: the daily pipeline (landing files to the published database) and model training."""

from typing import Any

import dagster as dg

# What define_asset_job returns (an unresolved asset job; dagster does not export the class).
AssetJob = Any


def build_jobs() -> tuple[AssetJob, ...]:
    """`cx_pipeline` (every asset) and `cx_train` (the model assets only; run with the force tag)."""
    pipeline = dg.define_asset_job(
        "cx_pipeline",
        selection=dg.AssetSelection.all(),
        description="Ingest, signals, metrics and publish for a day or a range of days.",
    )
    train = dg.define_asset_job(
        "cx_train",
        selection=dg.AssetSelection.groups("models"),
        description="Retrain the intent, CSAT and repeat-risk models on the days up to the partition; later runs "
        "score with the new versions.",
    )
    return pipeline, train
