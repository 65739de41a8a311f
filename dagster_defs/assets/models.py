"""Predicted CSAT and repeat-contact risk: versioned scikit-learn models and the tables they score, and the
population CSAT that weights the surveyed contacts by their response propensity."""

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from cx_signals.config import Parameters
from cx_signals.db import bind, day_batches, ensure_schema, sql_text
from cx_signals.ml.artefacts import load_latest_model, save_model
from cx_signals.ml.contact_models import (
    POPULATION_COLUMNS,
    CsatModel,
    RiskModel,
    csat_population_table,
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
from dagster_defs.assets.signals import chain_window, common_settings, scored_days, windowed, write_frame
from dagster_defs.assets.sql_tables import upstream_tables
from dagster_defs.checks import contract_checks
from dagster_defs.common import partition_days, train_if_due
from dagster_defs.database_resources import CxSettings


def _frame(con, sql_name: str, first: date, last: date, columns: Sequence[str]) -> pl.DataFrame:
    """The `columns` of what `sql/<sql_name>.sql` returns for the contacts started on a day in [first, last]."""
    sql = sql_text(sql_name)
    return con.execute(sql, bind(sql, {"start_date": first, "end_date": last})).pl().select(columns)


# What each model reads, in this column order: the population and its joins are in sql/models.
_CSAT_COLUMNS = ("partition_date", "csat", *SIGNAL_COLUMNS)
_POPULATION_COLUMNS = (*POPULATION_COLUMNS, *(c for c in SIGNAL_COLUMNS if c not in POPULATION_COLUMNS))
_RISK_COLUMNS = (
    "repeat_contact",
    "customer_key",
    *JOURNEY_COLUMNS,
    *(c for c in SIGNAL_COLUMNS if c not in ("conversation_id", "intent")),
    "conversation_id",
    "intent",
)


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
    return _frame(con, "models/risk_contacts", first, last, _RISK_COLUMNS)


def build_models(config: Parameters, partitions: dg.PartitionsDefinition) -> tuple[list, list]:
    """Predicted-CSAT and repeat-risk models with the tables they score, and those tables' checks."""
    models, outcomes, csat = config.models, config.outcomes, config.csat
    model_common = {**common_settings(partitions, "models"), "kinds": {"scikitlearn"}}
    signals_common = common_settings(partitions, "signals")
    metrics_common = common_settings(partitions, "metrics")
    days_per_query = config.storage.days_per_query

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
            window = training_window(days)
            signals = _frame(con, "models/csat_contacts", *window, _CSAT_COLUMNS)
            model = train_csat_model(
                conversation_features(signals),
                signals["csat"],
                seed=models.seed,
                held_out_share=models.held_out_share,
                min_labels=models.min_labels,
                trained_days=window,
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
            notes: dict[date, str] = {}

            def score(signals: pl.DataFrame, day: date) -> pl.DataFrame | None:
                of_day = signals.filter(pl.col("partition_date") == day)
                return csat_predictions_table(model, of_day, csat.top_factors) if len(of_day) else None

            rows = scored_days(
                days,
                days_per_query,
                model,
                "no CSAT model (see models/)",
                lambda first, last: _frame(con, "models/csat_contacts", first, last, _CSAT_COLUMNS),
                score,
                notes,
            )
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
        deps=[asset_key(t) for t in upstream_tables("models/risk_contacts")],
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
            notes: dict[date, str] = {}

            def score(contacts: pl.DataFrame, day: date) -> pl.DataFrame | None:
                if not len(contacts):
                    return None
                return repeat_risk_table(model, contacts, day, outcomes.repeat_window_days, models.risk_top_factors)

            rows = scored_days(
                days,
                days_per_query,
                model,
                "no repeat-risk model (see models/)",
                lambda first, last: _contacts(con, first - timedelta(days=outcomes.chain_lookback_days), last),
                score,
                notes,
            )
            return write_frame(
                context, con, "metrics.repeat_risk", days, rows, notes, model_version=model.version if model else "none"
            )

    population_window = dg.TimeWindowPartitionMapping(
        start_offset=-(csat.population_window_days - 1), end_offset=0, allow_nonexistent_upstream_partitions=True
    )

    @dg.asset(
        key=asset_key("metrics.csat_population"),
        deps=[
            dg.AssetDep(asset_key(t), partition_mapping=population_window)
            for t in upstream_tables("models/csat_population")
        ],
        description="Population CSAT per day and trailing window: surveyed CSAT weighted by inverse response "
        "propensity (who answers surveys), with its 95% interval, beside the plain surveyed mean and the mean "
        "predicted CSAT (sql/models/csat_population.sql, cx_signals/ml/survey_weights.py).",
        **metrics_common,
    )
    def csat_population(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        days = partition_days(context)
        with duckdb.get_connection() as con:
            ensure_schema(con)

            def batches() -> Iterator[pl.DataFrame]:
                for batch in day_batches(days, days_per_query):
                    first = batch[0] - timedelta(days=csat.population_window_days - 1)
                    contacts = _frame(con, "models/csat_population", first, batch[-1], _POPULATION_COLUMNS)
                    for day in batch:
                        yield csat_population_table(
                            contacts,
                            day,
                            csat.population_window_days,
                            max_weight=csat.max_weight,
                            min_surveyed=csat.min_surveyed,
                            max_propensity_rows=csat.max_propensity_rows,
                            seed=models.seed,
                        )

            return write_frame(context, con, "metrics.csat_population", days, batches())

    assets = [csat_model, csat_predictions, repeat_risk_model, repeat_risk, csat_population]
    return assets, contract_checks(["signals.csat_predictions", "metrics.repeat_risk", "metrics.csat_population"])
