"""Population CSAT corrected for who answers surveys (cx_signals/ml/survey_weights.py, csat_population_table)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from cx_signals.ml.contact_models import csat_population_table
from cx_signals.ml.survey_weights import ipw_mean, naive_mean, propensity_auc, response_propensity
from tests.unit.test_contact_models import make_signals


def survey_where_unhappy_customers_answer_more(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(feature, CSAT of every contact, answered): contacts with the feature are unhappy (CSAT ~2) and answer 40% of
    the time; the others are happy (~4.5) and answer 5% of the time."""
    rng = np.random.default_rng(seed)
    unhappy = rng.random(n) < 0.5
    csat = np.clip(np.round(np.where(unhappy, 2.0, 4.5) + rng.normal(0, 0.5, n)), 1, 5)
    answered = rng.random(n) < np.where(unhappy, 0.40, 0.05)
    return unhappy.astype(float).reshape(-1, 1), csat, answered


def test_ipw_recovers_the_population_mean_that_the_naive_mean_misses():
    x, csat, answered = survey_where_unhappy_customers_answer_more(20_000)
    truth = csat.mean()
    naive = naive_mean(csat[answered])
    propensity = response_propensity(x, answered)
    weighted = ipw_mean(np.where(answered, csat, np.nan), answered, propensity)
    assert naive is not None and weighted is not None
    # the plain surveyed mean is pulled about a point towards the unhappy customers who answer more ...
    assert truth - naive.mean > 0.8
    assert not naive.low <= truth <= naive.high
    # ... the weighted mean recovers the truth, inside its interval
    assert abs(weighted.mean - truth) < 0.05
    assert weighted.low <= truth <= weighted.high
    assert weighted.respondents == answered.sum()
    # weighting costs precision: the few happy respondents count for many
    assert 0.2 * answered.sum() < weighted.effective_sample_size < 0.6 * answered.sum()
    assert propensity_auc(propensity, answered) > 0.75


def test_ipw_interval_covers_the_truth_at_about_its_nominal_rate():
    covered = []
    for seed in range(40):
        x, csat, answered = survey_where_unhappy_customers_answer_more(2_000, seed)
        estimate = ipw_mean(csat, answered, response_propensity(x, answered), max_weight=1e9)
        assert estimate is not None
        covered.append(estimate.low <= csat.mean() <= estimate.high)
    assert np.mean(covered) >= 0.85


def test_random_response_leaves_ipw_equal_to_the_naive_mean():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5_000, 3))
    csat = rng.integers(1, 6, 5_000).astype(float)
    answered = rng.random(5_000) < 0.2
    propensity = response_propensity(x, answered)
    weighted, naive = ipw_mean(csat, answered, propensity), naive_mean(csat[answered])
    assert weighted is not None and naive is not None
    assert abs(weighted.mean - naive.mean) < 0.03
    assert abs(propensity_auc(propensity, answered) - 0.5) < 0.05


def test_a_sample_of_the_contacts_fits_the_propensity_of_all():
    x, csat, answered = survey_where_unhappy_customers_answer_more(20_000)
    full = response_propensity(x, answered)
    sampled = response_propensity(x, answered, max_fit_rows=5_000)
    assert len(sampled) == 20_000
    assert np.abs(sampled - full).max() < 0.03
    weighted = ipw_mean(csat, answered, sampled)
    assert weighted is not None and abs(weighted.mean - csat.mean()) < 0.1


def test_trimming_caps_the_largest_weights():
    y = np.array([1.0, 5.0, 5.0, 5.0, 5.0])
    answered = np.ones(5, dtype=bool)
    propensity = np.array([0.05, 1.0, 1.0, 1.0, 1.0])  # stabilised weights 20, 1, 1, 1, 1
    untrimmed = ipw_mean(y, answered, propensity, max_weight=20.0)
    trimmed = ipw_mean(y, answered, propensity, max_weight=2.0)
    assert untrimmed is not None and trimmed is not None
    assert untrimmed.mean == pytest.approx(40 / 24) and untrimmed.trimmed == 0 and untrimmed.max_weight == 20.0
    # capped at 2, the one rarely-answering respondent counts for two average ones
    assert trimmed.mean == pytest.approx(22 / 6) and trimmed.trimmed == 1 and trimmed.max_weight == 2.0
    assert trimmed.effective_sample_size == pytest.approx(36 / 8)


def test_edge_cases_are_explicit():
    assert naive_mean(np.array([])) is None
    assert ipw_mean(np.array([3.0]), np.array([False]), np.array([0.5])) is None
    assert np.array_equal(response_propensity(np.zeros((3, 1)), np.ones(3, dtype=bool)), np.ones(3))
    assert propensity_auc(np.ones(3), np.ones(3, dtype=bool)) is None
    with pytest.raises(ValueError, match="propensities"):
        ipw_mean(np.array([3.0]), np.array([True]), np.array([0.0]))
    with pytest.raises(ValueError, match="max_weight"):
        ipw_mean(np.array([3.0]), np.array([True]), np.array([0.5]), max_weight=0.5)


def population_contacts(days: int, per_day: int, seed: int = 0) -> pl.DataFrame:
    """Conversations over `days` days ending 2024-03-10: voice contacts are unhappy and answer the survey far more
    often; every contact has a predicted CSAT (its true CSAT here)."""
    rng = np.random.default_rng(seed)
    signals = make_signals(days * per_day, seed)
    voice = (signals["channel"] == "voice").to_numpy()
    csat = np.clip(np.round(np.where(voice, 2.0, 4.5) + rng.normal(0, 0.5, len(voice))), 1, 5)
    answered = rng.random(len(voice)) < np.where(voice, 0.6, 0.08)
    return signals.with_columns(
        partition_date=pl.Series([date(2024, 3, 10) - timedelta(days=i % days) for i in range(len(voice))]),
        csat=pl.Series(np.where(answered, csat, np.nan)).fill_nan(None).cast(pl.Int64),
        predicted_csat=pl.Series(csat),
        csat_model_version=pl.lit("v1"),
    )


def test_population_table_gives_the_day_and_its_window():
    contacts = population_contacts(days=7, per_day=1_000)
    day = date(2024, 3, 10)
    table = csat_population_table(contacts, day, window_days=7, min_surveyed=30)
    assert table["period"].to_list() == ["day", "window"]
    assert table["window_start"].to_list() == [day, day - timedelta(days=6)]
    assert table["contacts"].to_list() == [1_000, 7_000]
    window = table.row(1, named=True)
    truth = contacts["predicted_csat"].mean()
    assert window["estimated"] and window["csat_model_version"] == "v1"
    assert window["surveyed"] == contacts["csat"].is_not_null().sum()
    assert window["naive_mean"] < truth - 0.8
    assert window["ipw_low"] <= truth <= window["ipw_high"]
    assert window["ipw_minus_naive"] > 0.8
    assert window["predicted_mean"] == pytest.approx(truth)
    assert window["propensity_auc"] > 0.75


def test_population_table_needs_enough_answers_and_a_day_with_contacts():
    contacts = population_contacts(days=2, per_day=100)
    thin = csat_population_table(contacts, date(2024, 3, 10), window_days=2, min_surveyed=1_000)
    assert not thin["estimated"].any()
    assert thin["ipw_mean"].null_count() == 2 and thin["naive_mean"].null_count() == 0
    assert csat_population_table(contacts, date(2024, 3, 20), window_days=2).is_empty()
