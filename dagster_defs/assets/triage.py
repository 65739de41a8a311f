"""Intent triage: a versioned TF-IDF + logistic regression model and its predictions for every conversation."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from cx_signals.db import ensure_schema
from cx_signals.resources import model_directory as models_beside
from cx_signals.triage import (
    NotEnoughLabels,
    first_customer_texts,
    load_latest_model,
    predict_intents,
    save_model,
    train_intent_model,
)
from dagster_defs.assets.raw import asset_key
from dagster_defs.assets.signals import write_rows
from dagster_defs.checks import contract_checks
from dagster_defs.common import not_trained, partition_days
from dagster_defs.partitions import daily_partitions, single_run
from dagster_defs.resources import WRITER_POOL, CxSettings

_TURNS_SQL = """
    SELECT t.conversation_id, t.turn_index, t.speaker, t.text, c.intent, c.partition_date
    FROM raw.turns AS t JOIN raw.conversations AS c USING (conversation_id)
    WHERE c.consent_analytics AND {where}
"""


def model_directory(settings: CxSettings) -> Path:
    """Where model artefacts are kept: `models/` beside the published database."""
    return models_beside(settings.published_path)


def _first_texts(con, where: str, params: list, n_turns: int) -> pl.DataFrame:
    turns = con.execute(_TURNS_SQL.format(where=where), params).pl()
    labels = turns.select("conversation_id", "intent", "partition_date").unique("conversation_id")
    return first_customer_texts(turns, n_turns=n_turns, order_by=("turn_index",)).join(labels, on="conversation_id")


@dg.asset(
    key=asset_key("models.intent_model"),
    deps=[asset_key("raw.turns"), asset_key("raw.conversations")],
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool=WRITER_POOL,
    group_name="models",
    kinds={"scikitlearn"},
    description="Intent triage model trained on the labelled conversations of the triage.training_days days up to "
    "the run's last day; saved as a versioned artefact with its held-out metrics.",
)
def intent_model(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CxSettings):
    days = partition_days(context)
    triage = settings.config()["triage"]
    with duckdb.get_connection() as con:
        ensure_schema(con)
        examples = _first_texts(
            con,
            "c.intent IS NOT NULL AND c.partition_date BETWEEN ? AND ?",
            [max(days) - timedelta(days=triage["training_days"] - 1), max(days)],
            triage["first_customer_turns"],
        )
    try:
        model = train_intent_model(
            examples["text"].to_list(),
            examples["intent"].to_list(),
            test_size=triage["held_out_share"],
            min_examples_per_intent=triage["min_examples_per_intent"],
        )
    except NotEnoughLabels as exc:
        return not_trained(context, "intent model", exc)
    path = save_model(model, model_directory(settings), created_at=datetime.now(UTC))
    metrics = model.metrics
    return dg.MaterializeResult(
        metadata={
            "trained": True,
            "artefact": dg.MetadataValue.path(str(path)),
            "model_version": model.version,
            "held_out_macro_f1": float(metrics["macro_f1"]),
            "held_out_accuracy": float(metrics["accuracy"]),
            "n_train": int(metrics["n_train"]),
            "n_test": int(metrics["n_test"]),
            "n_intents": int(metrics["n_classes"]),
            "per_intent_f1": dg.MetadataValue.json(metrics["per_class_f1"]),
        }
    )


@dg.asset(
    key=asset_key("signals.intent_predictions"),
    deps=[asset_key("models.intent_model")],
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool=WRITER_POOL,
    group_name="signals",
    kinds={"duckdb"},
    description="Intent predicted from the customer's first turns for every consented conversation.",
)
def intent_predictions(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CxSettings):
    days = partition_days(context)
    triage = settings.config()["triage"]
    model = load_latest_model(model_directory(settings))
    with duckdb.get_connection() as con:
        ensure_schema(con)
        texts = _first_texts(
            con, "c.partition_date BETWEEN ? AND ?", [min(days), max(days)], triage["first_customer_turns"]
        )
        predictions = predict_intents(model, texts["text"].to_list()) if model else [(None, None)] * len(texts)
        rows = [
            {
                "partition_date": day,
                "conversation_id": cid,
                "model_version": model.version if model else None,
                "predicted_intent": intent if confidence and confidence >= triage["min_confidence"] else None,
                "confidence": confidence,
            }
            for cid, day, (intent, confidence) in zip(
                texts["conversation_id"], texts["partition_date"], predictions, strict=True
            )
        ]
        return write_rows(
            context, con, "signals.intent_predictions", days, rows, model_version=model.version if model else "none"
        )


triage_assets = [intent_model, intent_predictions]
triage_checks = contract_checks(["signals.intent_predictions"])
