"""Intent triage: a versioned TF-IDF + linear SVM model with its abstention threshold, and its predictions for every
conversation."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from cx_signals.config import Parameters
from cx_signals.db import bind, day_batches, ensure_schema, sql_text
from cx_signals.ml import UNKNOWN_INTENT
from cx_signals.ml.artefacts import latest_sidecar, load_latest_model, save_model
from cx_signals.ml.intent import (
    TrainedIntentModel,
    artefact_outdated,
    first_customer_texts_sql,
    predict_intents,
    train_intent_model,
)
from dagster_defs.assets.raw import asset_key
from dagster_defs.assets.signals import common_settings, scored_days, write_frame
from dagster_defs.checks import contract_checks
from dagster_defs.common import partition_days, train_if_due
from dagster_defs.database_resources import CxSettings


def first_texts(con, first: date, last: date, n_turns: int, labelled_only: bool) -> pl.DataFrame:
    """conversation_id, text (first customer turns), intent and partition_date of the consented conversations started
    on a day in [first, last] (only those with a label when `labelled_only`), computed in DuckDB."""
    turns = sql_text("models/intent_turns")
    texts = first_customer_texts_sql("turns", n_turns=n_turns, order_by=("turn_index",))
    sql = f"""
        WITH turns AS ({turns})
        SELECT f.conversation_id, f.text, c.intent, c.partition_date
        FROM ({texts}) AS f JOIN (SELECT DISTINCT conversation_id, intent, partition_date FROM turns) AS c
        USING (conversation_id)
        ORDER BY f.conversation_id
    """
    texts = con.execute(sql, bind(sql, {"start_date": first, "end_date": last})).pl()
    return texts.filter(pl.col("intent").is_not_null()) if labelled_only else texts


def _metadata(model: TrainedIntentModel, path: Path, reason: str) -> dict[str, Any]:
    metrics = model.metrics
    return {
        "trained": True,
        "why": reason,
        "artefact": dg.MetadataValue.path(str(path)),
        "model_version": model.version,
        "held_out_macro_f1": float(metrics["macro_f1"]),
        "held_out_accuracy": float(metrics["accuracy"]),
        "abstention_threshold": model.abstention_threshold,
        "target_precision": float(model.params["target_precision"]),
        "held_out_in_scope_accuracy_with_abstention": float(metrics["in_scope_accuracy_with_abstention"]),
        "held_out_answered_share": float(metrics["in_scope_answered_share"]),
        "n_train": int(metrics["n_train"]),
        "n_test": int(metrics["n_test"]),
        "n_intents": int(metrics["n_classes"]),
        "per_intent_f1": dg.MetadataValue.json(metrics["per_class_f1"]),
        # only a model that learned out-of-scope labels has an out-of-scope recall
        **(
            {"held_out_out_of_scope_recall": float(metrics["out_of_scope_recall"])}
            if metrics["out_of_scope_recall"] is not None
            else {}
        ),
    }


def build_triage(config: Parameters, partitions: dg.PartitionsDefinition) -> tuple[list, list]:
    """The intent model and intent predictions assets, with the predictions' contract check."""
    triage = config.triage
    common = {**common_settings(partitions, "models"), "kinds": {"scikitlearn"}}

    @dg.asset(
        key=asset_key("models.intent_model"),
        deps=[asset_key("raw.turns"), asset_key("raw.conversations")],
        description="Intent triage model trained on the labelled conversations of the triage.training_days days up "
        "to the run's last day, when there is no model yet, it is marked for retraining, or the run forces it "
        "(cx-signals train, weekly schedule); saved as a versioned artefact with its held-out metrics.",
        **common,
    )
    def intent_model(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CxSettings):
        def fit(con, days: list[date]) -> tuple[TrainedIntentModel, Path]:
            # a batch of days at a time: the first-turns query over the whole window (180 days) held every turn of
            # it at once, and ran out of DuckDB's memory at 150,000 customers
            window = [max(days) - timedelta(days=n) for n in range(triage.training_days)]
            examples = pl.concat(
                first_texts(con, batch[0], batch[-1], triage.first_customer_turns, labelled_only=True)
                for batch in day_batches(window, config.storage.days_per_query)
            ).sort("conversation_id")  # the order of one query over the window, which the held-out split follows
            model = train_intent_model(
                examples["text"].to_list(),
                examples["intent"].to_list(),
                test_size=triage.held_out_share,
                min_examples_per_intent=triage.min_examples_per_intent,
                max_distinct_texts=config.models.max_intent_texts,
                out_of_scope_labels=triage.out_of_scope_labels,
                target_precision=triage.target_precision,
            )
            return model, save_model(model, settings.files.models, created_at=datetime.now(UTC))

        current = latest_sidecar(settings.files.models, TrainedIntentModel.kind)
        return train_if_due(
            context,
            duckdb,
            settings.files.models,
            TrainedIntentModel.kind,
            "models.intent_model",
            fit,
            _metadata,
            outdated=artefact_outdated(current) if current else None,
        )

    @dg.asset(
        key=asset_key("signals.intent_predictions"),
        deps=[asset_key("models.intent_model")],
        description="Intent predicted from the customer's first turns for every consented conversation, by the "
        "current model version (stored per row).",
        **common_settings(partitions, "signals"),
    )
    def intent_predictions(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CxSettings):
        days = partition_days(context)
        model = load_latest_model(settings.files.models, TrainedIntentModel)
        notes: dict[date, str] = {}

        def score(texts: pl.DataFrame, day: date) -> pl.DataFrame | None:
            day_texts = texts.filter(pl.col("partition_date") == day)
            if day_texts.is_empty():
                return None
            intents, confidences = zip(*predict_intents(model, day_texts["text"].to_list()), strict=True)
            predicted = pl.Series("predicted_intent", intents, dtype=pl.String)
            return day_texts.select(
                "partition_date",
                "conversation_id",
                pl.lit(model.version).alias("model_version"),
                pl.when(predicted != UNKNOWN_INTENT).then(predicted).alias("predicted_intent"),
                pl.Series("confidence", confidences, dtype=pl.Float64),
            )

        with duckdb.get_connection() as con:
            ensure_schema(con)
            return write_frame(
                context,
                con,
                "signals.intent_predictions",
                days,
                scored_days(
                    days,
                    config.storage.days_per_query,
                    model,
                    "no intent model (see models/intent_model)",
                    lambda first, last: first_texts(con, first, last, triage.first_customer_turns, labelled_only=False),
                    score,
                    notes,
                ),
                notes,
                model_version=model.version if model else "none",
            )

    return [intent_model, intent_predictions], contract_checks(["signals.intent_predictions"])
