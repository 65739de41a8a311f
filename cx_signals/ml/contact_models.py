"""Predicted CSAT and repeat-contact risk: training against naive baselines, scoring and the tables they fill.

Predicted CSAT is a regression on conversation signals, trained on surveyed contacts and scoring every contact,
so the measure covers 100% of contacts instead of the ~15% who answer surveys. Repeat risk is a logistic
regression on a contact's signals plus its journey so far and whether operators acted on it, trained on contacts
whose repeat window has passed and scoring journeys whose window is still running (the proactive-service list).
Each model reports held-out error beside a naive baseline (the training mean CSAT; the training base rate), is
then refit on every labelled row for scoring, and is versioned by a hash of its training data and parameters.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, ClassVar, TypeVar

import numpy as np
import polars as pl
import sklearn
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import brier_score_loss, mean_absolute_error, roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from cx_signals.ml import NotEnoughLabels
from cx_signals.ml.artefacts import SavedModel
from cx_signals.ml.features import (
    SIGNAL_COLUMNS,
    conversation_features,
    end_of_day,
    journey_risk_features,
    naive_utc,
    open_journeys,
    require_columns,
)
from cx_signals.ml.survey_weights import ipw_mean, naive_mean, propensity_auc, response_propensity

MIN_LABELS = 30
# Each class needs a few rows on both sides of a stratified split for a held-out AUC to mean anything.
MIN_PER_CLASS = 5

# Fitting uses one BLAS thread: scipy's L-BFGS-B makes many small BLAS calls, which OpenBLAS' thread hand-offs slow
# down several times on busy cores (see cx_signals.ml.intent). Scores do not change.
_BLAS_THREADS = 1

# Part of every version hash: change it whenever the features or estimators change, so that a new model
# trained on the same data does not reuse an old version.
CSAT_MODEL_SPEC = "conversation features v1 + standardised ridge(alpha=10), clipped to [1, 5]"
RISK_MODEL_SPEC = (
    "conversation + journey-so-far + acted-on features v3 + standardised logreg(C=0.03), k-fold cross-validated"
)


def _labels(values: Sequence[Any] | np.ndarray | pl.Series, n_rows: int, what: str) -> pl.Series:
    labels = pl.Series(what, values, dtype=pl.Float64, strict=False).fill_nan(None)
    if len(labels) != n_rows:
        raise ValueError(f"got {n_rows} feature rows but {len(labels)} {what} values")
    return labels


def _design(features: pl.DataFrame, labels: pl.Series) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """(feature names, conversation ids, X, y) of the labelled rows, sorted by conversation_id.

    Sorting makes training independent of input order, so the same data always gives the same version.
    """
    require_columns(features, ["conversation_id"], "features")
    if features["conversation_id"].is_duplicated().any():
        raise ValueError("features has duplicate conversation_id values")
    names = [c for c in features.columns if c != "conversation_id"]
    labelled = (
        features.with_columns(labels.alias("_label")).filter(pl.col("_label").is_not_null()).sort("conversation_id")
    )
    x = labelled.select(names).cast(pl.Float64).to_numpy()
    if not np.isfinite(x).all():
        raise ValueError("features hold null, NaN or infinite values; build them with the feature functions")
    return names, labelled["conversation_id"].to_list(), x, labelled["_label"].to_numpy()


def _hash_training(names: list[str], ids: list[str], x: np.ndarray, y: np.ndarray) -> str:
    digest = hashlib.sha256(json.dumps([names, ids]).encode())
    digest.update(np.ascontiguousarray(x, dtype="<f8").tobytes())
    digest.update(np.ascontiguousarray(y, dtype="<f8").tobytes())
    return digest.hexdigest()


def _version(data_hash: str, params: dict[str, Any]) -> str:
    return hashlib.sha256(f"{data_hash}|{json.dumps(params, sort_keys=True)}".encode()).hexdigest()[:12]


def _matrix(features: pl.DataFrame, names: Sequence[str]) -> np.ndarray:
    # A category the model never saw has no column (all its indicators are 0); a category seen in training but
    # absent from this frame gets a zero column. Any other missing column is an error.
    missing = [n for n in names if n not in features.columns and "=" not in n]
    if missing:
        raise ValueError(f"features is missing column(s) {missing}")
    return features.select(
        [pl.col(n).cast(pl.Float64) if n in features.columns else pl.lit(0.0).alias(n) for n in names]
    ).to_numpy()


def _check_share(held_out_share: float) -> None:
    if not 0 < held_out_share < 1:
        raise ValueError(f"held_out_share must be in (0, 1), got {held_out_share}")


def _split(n: int, held_out_share: float, seed: int) -> tuple[np.ndarray, ...]:
    _check_share(held_out_share)
    return train_test_split(np.arange(n), test_size=held_out_share, random_state=seed)


@dataclass(frozen=True)
class _Model(SavedModel):
    """A fitted model of contact features, with the names of the features it reads, in order."""

    feature_names: tuple[str, ...]


@dataclass(frozen=True)
class CsatModel(_Model):
    """A fitted CSAT regressor (refit on every surveyed contact) with its held-out metrics."""

    kind: ClassVar[str] = "csat"


@dataclass(frozen=True)
class RiskModel(_Model):
    """A fitted repeat-contact classifier (refit on every labelled contact) with its held-out metrics."""

    kind: ClassVar[str] = "repeat_risk"


M = TypeVar("M", CsatModel, RiskModel)


def _csat_pipeline() -> Pipeline:
    return Pipeline([("scale", StandardScaler()), ("model", Ridge(alpha=10.0))])


@threadpool_limits.wrap(_BLAS_THREADS, user_api="blas")
def train_csat_model(
    features: pl.DataFrame,
    csat: Sequence[int | None] | np.ndarray | pl.Series,
    *,
    seed: int = 0,
    held_out_share: float = 0.25,
    min_labels: int = MIN_LABELS,
    trained_days: tuple[date, date] | None = None,
) -> CsatModel:
    """Train predicted CSAT on the surveyed rows; measure it on a held-out share against the mean predictor.

    `features` comes from conversation_features for every contact; `csat` is aligned with it, null (or NaN)
    where not surveyed. Metrics: held-out MAE (CSAT points) of the model and of the training-mean predictor on
    the same rows, the improvement (points and %), n_train, n_test, and coverage: the surveyed share of contacts
    versus the 100% the model scores; with `trained_days` (first, last day of the contacts given), those days as
    trained_from and trained_through, so that scoring can tell the contacts it trained on (in_training).
    The returned model is refit on every surveyed contact.
    Raises NotEnoughLabels with fewer than `min_labels` surveyed contacts.
    """
    labels = _labels(csat, features.height, "csat")
    if labels.drop_nulls().is_between(1, 5).not_().any():
        raise ValueError("csat values must lie in [1, 5]")
    names, ids, x, y = _design(features, labels)
    if len(y) < min_labels:
        raise NotEnoughLabels(f"need at least {min_labels} surveyed contacts to train predicted CSAT, found {len(y)}")
    train, test = _split(len(y), held_out_share, seed)
    evaluated = _csat_pipeline().fit(x[train], y[train])
    mae = float(mean_absolute_error(y[test], np.clip(evaluated.predict(x[test]), 1, 5)))
    baseline = float(mean_absolute_error(y[test], np.full(len(test), y[train].mean())))
    metrics = {
        "mae": mae,
        "baseline_mae": baseline,
        "baseline": "mean CSAT of the training rows",
        "mae_improvement": baseline - mae,
        "mae_improvement_pct": 100.0 * (baseline - mae) / baseline if baseline else 0.0,
        "n_train": len(train),
        "n_test": len(test),
        "n_surveyed": len(y),
        "n_contacts": features.height,
        "coverage_surveyed": len(y) / features.height,
        "coverage_predicted": 1.0,
        "evaluation": "random held-out split of surveyed contacts; saved model refit on all surveyed contacts",
    }
    if trained_days is not None:
        metrics["trained_from"], metrics["trained_through"] = (d.isoformat() for d in trained_days)
    return _refit_on_all(CsatModel, _csat_pipeline(), CSAT_MODEL_SPEC, names, ids, x, y, metrics, seed, held_out_share)


def _refit_on_all(
    kind: type[M],
    pipeline: Pipeline,
    spec: str,
    names: list[str],
    ids: list[str],
    x: np.ndarray,
    y: np.ndarray,
    metrics: dict[str, Any],
    seed: int,
    held_out_share: float,
) -> M:
    """The model of `kind` refit on every labelled row, versioned by its training data and parameters."""
    params = {"model": spec, "seed": seed, "held_out_share": held_out_share}
    data_hash = _hash_training(names, ids, x, y)
    return kind(
        estimator=pipeline.fit(x, y),
        version=_version(data_hash, params),
        feature_names=tuple(names),
        metrics=metrics,
        params=params,
        training_data_hash=data_hash,
        sklearn_version=sklearn.__version__,
    )


def score_csat(model: CsatModel, features: pl.DataFrame) -> np.ndarray:
    """Predicted CSAT in [1, 5] for each row of `features` (from conversation_features), in its order."""
    return np.clip(model.estimator.predict(_matrix(features, model.feature_names)), 1.0, 5.0)


def _risk_pipeline(seed: int) -> Pipeline:
    return Pipeline(
        [("scale", StandardScaler()), ("model", LogisticRegression(C=0.03, max_iter=2000, random_state=seed))]
    )


@threadpool_limits.wrap(_BLAS_THREADS, user_api="blas")
def train_repeat_risk(
    features: pl.DataFrame,
    repeated: Sequence[bool | None] | np.ndarray | pl.Series,
    *,
    seed: int = 0,
    held_out_share: float = 0.25,
    min_labels: int = MIN_LABELS,
) -> RiskModel:
    """Train repeat-contact risk; measure it by stratified cross-validation against the base rate.

    `features` comes from journey_risk_features; `repeated` is aligned with it (metrics.contact_outcomes
    .repeat_contact), null for rows whose repeat window has not passed (see labelled_contacts). The labelled rows
    are split into k = round(1 / held_out_share) stratified folds (fewer when a class has fewer rows, at least 2):
    each fold is held out once and scored by a model fitted on the others, so every labelled contact is held out
    once, instead of a single held-out share whose figures swing with the draw when labels are few. Metrics, on
    those held-out scores: ROC AUC (a constant base-rate predictor scores 0.5), Brier score of the model and of the
    base rate of the other folds, Brier skill (1 - ratio), precision and lift among the top-decile risks, positive
    rate, folds, n_train (the fewest rows a fold's model was fitted on) and n_test (every labelled row). The
    returned model is refit on every labelled contact.
    Raises NotEnoughLabels with fewer than `min_labels` labelled rows or MIN_PER_CLASS of either class.
    """
    names, ids, x, y = _design(features, _labels(repeated, features.height, "repeated"))
    positives = int(y.sum())
    if len(y) < min_labels or min(positives, len(y) - positives) < MIN_PER_CLASS:
        raise NotEnoughLabels(
            f"need at least {min_labels} labelled contacts with {MIN_PER_CLASS} repeats and {MIN_PER_CLASS} "
            f"non-repeats to train repeat risk; found {len(y)} with {positives} repeats"
        )
    _check_share(held_out_share)
    folds = max(2, min(round(1 / held_out_share), positives, len(y) - positives))
    risk, base_rate = np.empty(len(y)), np.empty(len(y))
    n_train = len(y)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        risk[test] = _risk_pipeline(seed).fit(x[train], y[train]).predict_proba(x[test])[:, 1]
        base_rate[test] = y[train].mean()
        n_train = min(n_train, len(train))
    brier = float(brier_score_loss(y, risk))
    base_brier = float(brier_score_loss(y, base_rate))
    top = np.argsort(-risk, kind="stable")[: max(1, math.ceil(0.1 * len(y)))]
    top_precision = float(y[top].mean())
    auc = float(roc_auc_score(y, risk))
    metrics = {
        "roc_auc": auc,
        "baseline_roc_auc": 0.5,
        "baseline": "constant base rate of the training folds",
        "roc_auc_margin": auc - 0.5,
        "brier": brier,
        "baseline_brier": base_brier,
        "brier_skill": 1.0 - brier / base_brier if base_brier else 0.0,
        "top_decile_precision": top_precision,
        "top_decile_lift": top_precision / float(y.mean()),
        "positive_rate": float(y.mean()),
        "folds": folds,
        "n_train": n_train,
        "n_test": len(y),
        "evaluation": f"stratified {folds}-fold cross-validation: every labelled contact held out once; saved model "
        "refit on all labelled contacts",
    }
    return _refit_on_all(
        RiskModel, _risk_pipeline(seed), RISK_MODEL_SPEC, names, ids, x, y, metrics, seed, held_out_share
    )


def score_repeat_risk(model: RiskModel, features: pl.DataFrame) -> np.ndarray:
    """Probability (0-1) of a repeat contact within R days for each row of `features`, in its order."""
    return model.estimator.predict_proba(_matrix(features, model.feature_names))[:, 1]


def _top_factors(model: CsatModel | RiskModel, features: pl.DataFrame, top: int, either_way: bool) -> list[str]:
    """Per row, up to `top` features moving its prediction most, as "name (+part)", comma-separated.

    A feature's part is the model's coefficient x the row's standardised value: what the feature adds to the
    prediction (log-odds for a classifier, CSAT points for a regressor) against a contact with the training mean of
    every feature. Ranked by the part itself (features raising the prediction) or, when `either_way`, by its size
    (raising or lowering). Categories are named only when the row has them ("channel=voice"), never by absence;
    numbers read "high name" or "low name". Parts of 0.05 or less in size are left out; a row with none gets "".
    """
    scaler, estimator = model.estimator.named_steps["scale"], model.estimator.named_steps["model"]
    values = _matrix(features, model.feature_names)
    standardised = scaler.transform(values)
    parts = standardised * np.ravel(estimator.coef_)
    is_category = np.array(["=" in name for name in model.feature_names])
    parts[is_category & (values == 0)] = 0.0
    strength = np.abs(parts) if either_way else parts

    def label(i: int, z: float) -> str:
        name = model.feature_names[i]
        return name if is_category[i] else f"{'high' if z > 0 else 'low'} {name}"

    order = np.argsort(-strength, axis=1, kind="stable")[:, :top]
    chosen = (np.take_along_axis(a, order, axis=1).tolist() for a in (parts, strength, standardised))
    return [
        ", ".join(
            f"{label(i, z)} ({part:+.2f})"
            for i, part, size, z in zip(row, parts_row, size_row, z_row, strict=True)
            if size > 0.05
        )
        for row, parts_row, size_row, z_row in zip(order.tolist(), *chosen, strict=True)
    ]


def risk_factors(model: RiskModel, features: pl.DataFrame, top: int = 3) -> list[str]:
    """Per row, up to `top` features raising its repeat risk most, as "name (+log-odds)" (see _top_factors)."""
    return _top_factors(model, features, top, either_way=False)


def csat_factors(model: CsatModel, features: pl.DataFrame, top: int = 3) -> list[str]:
    """Per row, up to `top` features moving its predicted CSAT most either way, as "name (+/-CSAT points)" against
    a contact with the training mean of every feature (see _top_factors)."""
    return _top_factors(model, features, top, either_way=True)


def repeat_risk_table(
    model: RiskModel, contacts: pl.DataFrame, day: date, repeat_window_days: int, top_factors: int = 3
) -> pl.DataFrame:
    """metrics.repeat_risk rows for `day`: open journeys (see open_journeys) ranked by repeat risk, highest first.

    `contacts` is as for journey_risk_features plus customer_key and intent; contacts ending after `day` and
    actions taken after it are ignored, so re-scoring a past day sees what was known then.
    """
    require_columns(contacts, ["customer_key", "intent"], "contacts")
    known = naive_utc(contacts, ["started_at", "ended_at"]).filter(pl.col("ended_at") <= end_of_day(day))
    latest = open_journeys(known, day, repeat_window_days).select("conversation_id", "chain_id")
    # a contact's journey features read only its own chain's contacts: build them for the open journeys' chains
    chains = known.join(latest, on="chain_id", how="semi", maintain_order="left", nulls_equal=True)
    features = journey_risk_features(chains, as_of=end_of_day(day)).join(
        latest, on="conversation_id", how="semi", maintain_order="left"
    )
    rows = chains.join(latest, on="conversation_id", how="semi", maintain_order="left")
    # scikit-learn refuses zero samples: a day with no open journey scores nothing
    risk = score_repeat_risk(model, features) if len(features) else []
    factors = risk_factors(model, features, top_factors) if len(features) else []
    return (
        rows.select(
            pl.lit(day, dtype=pl.Date).alias("partition_date"),
            pl.col("chain_id").alias("journey_id"),
            "customer_key",
            "intent",
            pl.col("conversation_id").alias("last_conversation_id"),
            pl.col("ended_at").alias("last_contact_at"),
            pl.col("disposition").alias("last_disposition"),
            (pl.col("ended_at") + timedelta(days=repeat_window_days)).alias("repeat_window_ends_at"),
            pl.col("chain_position").cast(pl.Int64).alias("contacts_so_far"),
            pl.Series("risk", risk, dtype=pl.Float64),
            pl.lit(model.version).alias("model_version"),
            pl.Series("top_factors", factors, dtype=pl.String),
        )
        .sort(["risk", "journey_id"], descending=[True, False])
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("risk_rank"))
    )


def csat_predictions_table(model: CsatModel, signals: pl.DataFrame, top_factors: int = 3) -> pl.DataFrame:
    """signals.csat_predictions rows: predicted CSAT for every conversation of `signals` beside any surveyed CSAT,
    with the `top_factors` features moving each prediction most (csat_factors) and whether the model trained on it
    (surveyed within the model's trained_from .. trained_through; null for a model that does not record them).

    `signals` holds SIGNAL_COLUMNS plus partition_date and csat.
    """
    require_columns(signals, ["partition_date", "csat"], "signals")
    features = conversation_features(signals)
    first, last = (model.metrics.get(k) for k in ("trained_from", "trained_through"))
    in_training = (
        pl.col("csat").is_not_null()
        & pl.col("partition_date").is_between(date.fromisoformat(first), date.fromisoformat(last))
        if first and last
        else pl.lit(None, dtype=pl.Boolean)
    )
    return signals.select(
        "partition_date",
        "conversation_id",
        pl.Series("predicted_csat", score_csat(model, features), dtype=pl.Float64),
        pl.col("csat").cast(pl.Int64).alias("surveyed_csat"),
        pl.lit(model.version).alias("model_version"),
        pl.Series("top_factors", csat_factors(model, features, top_factors), dtype=pl.String),
        in_training.alias("in_training"),
    )


# What csat_population_table reads besides SIGNAL_COLUMNS (sql/models/csat_population.sql).
POPULATION_COLUMNS = ("partition_date", "csat", "predicted_csat", "csat_model_version")


def csat_population_table(
    contacts: pl.DataFrame,
    day: date,
    window_days: int,
    *,
    max_weight: float = 20.0,
    min_surveyed: int = 30,
    max_propensity_rows: int = 200_000,
    seed: int = 0,
) -> pl.DataFrame:
    """metrics.csat_population rows for `day`: the day's and the trailing window's population CSAT.

    `contacts` holds SIGNAL_COLUMNS and POPULATION_COLUMNS for (at least) the `window_days` days ending on `day`.
    A response-propensity model is fitted on the window's contacts (conversation_features; answered = csat not
    null; a sample of `max_propensity_rows` when there are more); each period gets the plain surveyed mean, the
    inverse-propensity-weighted mean (cx_signals.ml.survey_weights, stabilised weights capped at `max_weight`) with
    95% intervals, and the mean predicted CSAT of all its contacts. With fewer than `min_surveyed` answers in a
    period its weighted mean is left null (`estimated` false). A day without contacts gets no rows.
    """
    require_columns(contacts, (*SIGNAL_COLUMNS, *POPULATION_COLUMNS), "contacts")
    start = day - timedelta(days=window_days - 1)
    window = contacts.filter(pl.col("partition_date").is_between(start, day)).sort("conversation_id")
    if not window.filter(pl.col("partition_date") == day).height:
        return pl.DataFrame()
    responded = window["csat"].is_not_null().to_numpy()
    x = conversation_features(window).drop("conversation_id").to_numpy()
    propensity = response_propensity(x, responded, seed=seed, max_fit_rows=max_propensity_rows)
    rows = []
    for period, first in (("day", day), ("window", start)):
        of_period = (window["partition_date"] >= first).to_numpy()
        answered, p = responded[of_period], propensity[of_period]
        y = window["csat"].fill_null(0).to_numpy()[of_period]
        naive = naive_mean(y[answered])
        estimated = int(answered.sum()) >= min_surveyed
        weighted = ipw_mean(y, answered, p, max_weight=max_weight) if estimated else None
        of_rows = window.filter(pl.Series(of_period))
        predicted = of_rows["predicted_csat"].drop_nulls()
        versions = of_rows["csat_model_version"].drop_nulls().unique().sort()
        rows.append(
            {
                "partition_date": day,
                "period": period,
                "window_start": first,
                "contacts": int(of_period.sum()),
                "surveyed": int(answered.sum()),
                "response_rate": float(answered.mean()),
                "naive_mean": naive.mean if naive else None,
                "naive_low": naive.low if naive else None,
                "naive_high": naive.high if naive else None,
                "estimated": estimated,
                "ipw_mean": weighted.mean if weighted else None,
                "ipw_low": weighted.low if weighted else None,
                "ipw_high": weighted.high if weighted else None,
                "ipw_std_error": weighted.std_error if weighted else None,
                "ipw_minus_naive": weighted.mean - naive.mean if weighted and naive else None,
                "effective_sample_size": weighted.effective_sample_size if weighted else None,
                "max_weight": weighted.max_weight if weighted else None,
                "trimmed_weights": weighted.trimmed if weighted else None,
                "propensity_auc": propensity_auc(p, answered),
                "predicted_mean": float(predicted.mean()) if len(predicted) else None,
                "predicted_contacts": len(predicted),
                "csat_model_version": ",".join(versions.to_list()) or None,
            }
        )
    return pl.DataFrame(rows, infer_schema_length=None)
