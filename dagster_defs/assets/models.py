"""Predicted CSAT and repeat-contact risk: versioned scikit-learn models and the tables they score."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from cx_signals.config import Parameters
from cx_signals.db import ensure_schema
from cx_signals.ml.artefacts import load_latest_model, save_model
from cx_signals.ml.contact_models import (
    CsatModel,
    RiskModel,
    csat_predictions_table,
    repeat_risk_table,
    train_csat_model,
    train_repeat_risk,
)
from cx_signals.ml.features import (
    JOURNEY_COLUMNS,
    SIGNAL_COLUMNS,
    conversation_features,
    journey_risk_features,
    labelled_contacts,
)
from dagster_defs.assets.raw import asset_key
from dagster_defs.assets.signals import chain_window, common_settings, windowed, write_frame
from dagster_defs.checks import contract_checks
from dagster_defs.common import partition_days, train_if_due
from dagster_defs.database_resources import CxSettings

_SIGNALS_SELECT = ", ".join(
    "contact_intent(s.labelled_intent, p.predicted_intent) AS intent" if column == "intent" else f"s.{column}"
    for column in SIGNAL_COLUMNS
)
_SIGNALS_SQL = f"""
    SELECT s.partition_date, s.csat, {_SIGNALS_SELECT}
    FROM signals.conversation_signals AS s LEFT JOIN signals.intent_predictions AS p USING (conversation_id)
    WHERE s.partition_date BETWEEN ? AND ?
      AND s.customer_key NOT IN (SELECT customer_key FROM main.refused_customers)
    ORDER BY s.conversation_id
"""
_CONTACTS_SQL = f"""
    SELECT o.repeat_contact, o.customer_key, {", ".join(f"o.{c}" for c in JOURNEY_COLUMNS)},
           {", ".join(f"s.{c}" for c in SIGNAL_COLUMNS if c not in ("conversation_id", "intent"))},
           o.conversation_id, o.intent
    FROM metrics.contact_outcomes AS o JOIN signals.conversation_signals AS s USING (conversation_id)
    WHERE o.partition_date BETWEEN ? AND ?
      AND o.customer_key NOT IN (SELECT customer_key FROM main.refused_customers)
    ORDER BY o.conversation_id
"""


def _model_metadata(model: CsatModel | RiskModel, path: Path, reason: str) -> dict:
    metrics = model.metadata()["metrics"]
    return {
        "trained": True,
        "why": reason,
        "artefact": dg.MetadataValue.path(str(path)),
        "model_version": model.version,
        **{k: v for k, v in metrics.items() if isinstance(v, int | float)},
    }


def _contacts(con, first: date, last: date) -> pl.DataFrame:
    return con.execute(_CONTACTS_SQL, [first, last]).pl()


def _score_by_day(days: list[date], model: Any, what: str, score) -> tuple[pl.DataFrame, dict[date, str]]:
    """The rows of `score(day)` (a frame, or None for nothing) of every day, and per day why nothing was scored (no
    model, or the model failed)."""
    frames: list[pl.DataFrame] = []
    notes: dict[date, str] = {}
    for day in days:
        if model is None:
            notes[day] = f"no {what} model (see models/)"
            continue
        try:
            scored = score(day)
        except Exception as exc:  # one day the model cannot score never takes the run down
            notes[day] = f"not scored: {type(exc).__name__}: {exc}"
            continue
        if scored is not None:
            frames.append(scored)
    return (pl.concat(frames) if frames else pl.DataFrame()), notes


def build_models(config: Parameters, partitions: dg.PartitionsDefinition) -> tuple[list, list]:
    """Predicted-CSAT and repeat-risk models with the tables they score, and those tables' checks."""
    models, outcomes = config.models, config.outcomes
    model_common = {**common_settings(partitions, "models"), "kinds": {"scikitlearn"}}
    signals_common = common_settings(partitions, "signals")
    metrics_common = common_settings(partitions, "metrics")

    def training_window(days: list[date]) -> tuple[date, date]:
        return max(days) - timedelta(days=models.training_days - 1), max(days)

    @dg.asset(
        key=asset_key("models.csat_model"),
        deps=[asset_key("signals.conversation_signals"), asset_key("signals.intent_predictions")],
        description="Predicted-CSAT model trained on surveyed contacts' signals (models.training_days up to the "
        "run's last day) when missing, marked for retraining or forced; held-out MAE against a mean predictor and "
        "survey coverage as metadata.",
        **model_common,
    )
    def csat_model(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CxSettings):
        def fit(con, days: list[date]) -> tuple[CsatModel, Path]:
            signals = con.execute(_SIGNALS_SQL, list(training_window(days))).pl()
            model = train_csat_model(
                conversation_features(signals),
                signals["csat"],
                seed=models.seed,
                held_out_share=models.held_out_share,
                min_labels=models.min_labels,
            )
            return model, save_model(model, settings.files.models, created_at=datetime.now(UTC))

        return train_if_due(
            context, duckdb, settings.files.models, CsatModel.kind, "models.csat_model", fit, _model_metadata
        )

    @dg.asset(
        key=asset_key("signals.csat_predictions"),
        deps=[asset_key("models.csat_model")],
        description="Predicted CSAT (1-5) for every consented contact, beside the surveyed CSAT where there is one, "
        "by the current model version (stored per row).",
        **signals_common,
    )
    def csat_predictions(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CxSettings):
        days = partition_days(context)
        model = load_latest_model(settings.files.models, CsatModel)
        with duckdb.get_connection() as con:
            ensure_schema(con)
            signals = con.execute(_SIGNALS_SQL, [min(days), max(days)]).pl()

            def score(day: date) -> pl.DataFrame | None:
                of_day = signals.filter(pl.col("partition_date") == day)
                return csat_predictions_table(model, of_day) if len(of_day) else None

            rows, notes = _score_by_day(days, model, "CSAT", score)
            return write_frame(
                context,
                con,
                "signals.csat_predictions",
                days,
                rows,
                notes,
                model_version=model.version if model else "none",
            )

    @dg.asset(
        key=asset_key("models.repeat_risk_model"),
        deps=[asset_key("metrics.contact_outcomes")],
        description="Repeat-contact risk model trained on contacts whose repeat window has passed, when missing, "
        "marked for retraining or forced; held-out ROC AUC and Brier score against the base rate as metadata.",
        **model_common,
    )
    def repeat_risk_model(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CxSettings):
        def fit(con, days: list[date]) -> tuple[RiskModel, Path]:
            first, last = training_window(days)
            contacts = _contacts(con, first - timedelta(days=outcomes.chain_lookback_days), last)
            labelled = labelled_contacts(contacts, last, outcomes.repeat_window_days)
            model = train_repeat_risk(
                journey_risk_features(labelled),
                labelled["repeat_contact"],
                seed=models.seed,
                held_out_share=models.held_out_share,
                min_labels=models.min_labels,
            )
            return model, save_model(model, settings.files.models, created_at=datetime.now(UTC))

        return train_if_due(
            context, duckdb, settings.files.models, RiskModel.kind, "models.repeat_risk_model", fit, _model_metadata
        )

    @dg.asset(
        key=asset_key("metrics.repeat_risk"),
        deps=[asset_key("models.repeat_risk_model"), *windowed(chain_window(config), "metrics.contact_outcomes")],
        description="Proactive-service list: open journeys ranked by the risk that the customer contacts again, by "
        "the current model version (stored per row).",
        **metrics_common,
    )
    def repeat_risk(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CxSettings):
        days = partition_days(context)
        model = load_latest_model(settings.files.models, RiskModel)
        with duckdb.get_connection() as con:
            ensure_schema(con)
            contacts = _contacts(con, min(days) - timedelta(days=outcomes.chain_lookback_days), max(days))

            def score(day: date) -> pl.DataFrame | None:
                if not len(contacts):
                    return None
                return repeat_risk_table(
                    model, contacts, day, outcomes.repeat_window_days, models.risk_top_factors
                )

            rows, notes = _score_by_day(days, model, "repeat-risk", score)
            return write_frame(
                context, con, "metrics.repeat_risk", days, rows, notes, model_version=model.version if model else "none"
            )

    assets = [csat_model, csat_predictions, repeat_risk_model, repeat_risk]
    return assets, contract_checks(["signals.csat_predictions", "metrics.repeat_risk"])
