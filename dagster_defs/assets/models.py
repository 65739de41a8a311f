"""Predicted CSAT and repeat-contact risk: versioned scikit-learn models and the tables they score."""

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from cx_signals.db import ensure_schema
from cx_signals.models import (
    JOURNEY_COLUMNS,
    SIGNAL_COLUMNS,
    CsatModel,
    NotEnoughLabels,
    RiskModel,
    conversation_features,
    csat_predictions_table,
    journey_risk_features,
    labelled_contacts,
    load_latest_model,
    repeat_risk_table,
    save_model,
    train_csat_model,
    train_repeat_risk,
)
from dagster_defs.assets.raw import asset_key
from dagster_defs.assets.signals import windowed, write_rows
from dagster_defs.assets.triage import model_directory
from dagster_defs.checks import contract_checks
from dagster_defs.common import not_trained, partition_days
from dagster_defs.partitions import daily_partitions, single_run
from dagster_defs.resources import WRITER_POOL, CxSettings

_PARTITIONED = {"partitions_def": daily_partitions, "backfill_policy": single_run, "pool": WRITER_POOL}
_SIGNALS_SELECT = ", ".join(
    "contact_intent(s.labelled_intent, p.predicted_intent) AS intent" if column == "intent" else f"s.{column}"
    for column in SIGNAL_COLUMNS
)
_SIGNALS_SQL = f"""
    SELECT s.partition_date, s.csat, {_SIGNALS_SELECT}
    FROM signals.conversation_signals AS s LEFT JOIN signals.intent_predictions AS p USING (conversation_id)
    WHERE s.partition_date BETWEEN ? AND ?
    ORDER BY s.conversation_id
"""
_CONTACTS_SQL = f"""
    SELECT o.repeat_contact, o.customer_key, {", ".join(f"o.{c}" for c in JOURNEY_COLUMNS)},
           {", ".join(f"s.{c}" for c in SIGNAL_COLUMNS if c not in ("conversation_id", "intent"))},
           o.conversation_id, o.intent
    FROM metrics.contact_outcomes AS o JOIN signals.conversation_signals AS s USING (conversation_id)
    WHERE o.partition_date BETWEEN ? AND ?
    ORDER BY o.conversation_id
"""


def _model_metadata(model: CsatModel | RiskModel, path) -> dict:
    metrics = model.metadata()["metrics"]
    return {
        "trained": True,
        "artefact": dg.MetadataValue.path(str(path)),
        "model_version": model.version,
        **{k: v for k, v in metrics.items() if isinstance(v, int | float)},
    }


def _training_window(days: list[date], settings: CxSettings) -> tuple[date, date]:
    return max(days) - timedelta(days=settings.config()["models"]["training_days"] - 1), max(days)


@dg.asset(
    key=asset_key("models.csat_model"),
    deps=[asset_key("signals.conversation_signals"), asset_key("signals.intent_predictions")],
    group_name="models",
    kinds={"scikitlearn"},
    description="Predicted-CSAT model trained on surveyed contacts' signals (models.training_days up to the run's "
    "last day); held-out MAE against a mean predictor and survey coverage as metadata.",
    **_PARTITIONED,
)
def csat_model(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CxSettings):
    parameters = settings.config()["models"]
    with duckdb.get_connection() as con:
        ensure_schema(con)
        signals = con.execute(_SIGNALS_SQL, list(_training_window(partition_days(context), settings))).pl()
    try:
        model = train_csat_model(
            conversation_features(signals),
            signals["csat"],
            seed=parameters["seed"],
            held_out_share=parameters["held_out_share"],
            min_labels=parameters["min_labels"],
        )
    except NotEnoughLabels as exc:
        return not_trained(context, "CSAT model", exc)
    path = save_model(model, model_directory(settings), created_at=datetime.now(UTC))
    return dg.MaterializeResult(metadata=_model_metadata(model, path))


@dg.asset(
    key=asset_key("signals.csat_predictions"),
    deps=[asset_key("models.csat_model")],
    group_name="signals",
    kinds={"duckdb"},
    description="Predicted CSAT (1-5) for every consented contact, beside the surveyed CSAT where there is one.",
    **_PARTITIONED,
)
def csat_predictions(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CxSettings):
    days = partition_days(context)
    model = load_latest_model(model_directory(settings), CsatModel)
    with duckdb.get_connection() as con:
        ensure_schema(con)
        signals = con.execute(_SIGNALS_SQL, [min(days), max(days)]).pl()
        rows = csat_predictions_table(model, signals).to_dicts() if model and len(signals) else []
        return write_rows(
            context, con, "signals.csat_predictions", days, rows, model_version=model.version if model else "none"
        )


def _contacts(con, first: date, last: date) -> pl.DataFrame:
    return con.execute(_CONTACTS_SQL, [first, last]).pl()


@dg.asset(
    key=asset_key("models.repeat_risk_model"),
    deps=[asset_key("metrics.contact_outcomes")],
    group_name="models",
    kinds={"scikitlearn"},
    description="Repeat-contact risk model trained on contacts whose repeat window has passed; held-out ROC AUC and "
    "Brier score against the base rate as metadata.",
    **_PARTITIONED,
)
def repeat_risk_model(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CxSettings):
    config = settings.config()
    first, last = _training_window(partition_days(context), settings)
    with duckdb.get_connection() as con:
        ensure_schema(con)
        contacts = _contacts(con, first - timedelta(days=config["outcomes"]["chain_lookback_days"]), last)
    labelled = labelled_contacts(contacts, last, config["outcomes"]["repeat_window_days"])
    try:
        model = train_repeat_risk(
            journey_risk_features(labelled),
            labelled["repeat_contact"],
            seed=config["models"]["seed"],
            held_out_share=config["models"]["held_out_share"],
            min_labels=config["models"]["min_labels"],
        )
    except NotEnoughLabels as exc:
        return not_trained(context, "repeat-risk model", exc)
    path = save_model(model, model_directory(settings), created_at=datetime.now(UTC))
    return dg.MaterializeResult(metadata=_model_metadata(model, path))


@dg.asset(
    key=asset_key("metrics.repeat_risk"),
    deps=[asset_key("models.repeat_risk_model"), *windowed("metrics.contact_outcomes")],
    group_name="metrics",
    kinds={"duckdb"},
    description="Proactive-service list: open journeys ranked by the risk that the customer contacts again.",
    **_PARTITIONED,
)
def repeat_risk(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CxSettings):
    days = partition_days(context)
    config = settings.config()
    model = load_latest_model(model_directory(settings), RiskModel)
    with duckdb.get_connection() as con:
        ensure_schema(con)
        contacts = _contacts(con, min(days) - timedelta(days=config["outcomes"]["chain_lookback_days"]), max(days))
        rows = [
            row
            for day in days
            if model and len(contacts)
            for row in repeat_risk_table(
                model, contacts, day, config["outcomes"]["repeat_window_days"], config["models"]["risk_top_factors"]
            ).to_dicts()
        ]
        return write_rows(
            context, con, "metrics.repeat_risk", days, rows, model_version=model.version if model else "none"
        )


model_assets = [csat_model, csat_predictions, repeat_risk_model, repeat_risk]
model_checks = contract_checks(["signals.csat_predictions", "metrics.repeat_risk"])
