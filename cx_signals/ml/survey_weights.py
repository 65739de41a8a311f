"""Population CSAT from the surveyed few: inverse propensity weighting for who answers surveys.

Customers do not answer surveys at random (an abandoned call is rarely surveyed, an angry customer may answer more
often), so the mean surveyed CSAT is a biased estimate of the mean CSAT of all contacts. A response-propensity model
(logistic regression of "answered" on the contact's features) gives each respondent the weight 1 / P(answer), so
that respondents stand in for the similar contacts who did not answer. The estimate is unbiased when, given the
features, answering does not depend on the satisfaction itself (missing at random); features that the model does
not see can still bias it.

Weights are stabilised (multiplied by the overall response rate, so that they average about 1 and read as "this
respondent counts for w average respondents") and trimmed: weights above `max_weight` are set to it, trading a little
bias for a smaller variance when a few contacts have a tiny propensity. The cap is absolute rather than a quantile of
the weights: the respondents of a rarely surveyed group (abandoned contacts, surveyed 10 times less often) are the
top percent of the weights and carry the whole correction, which a 99th-percentile cap would undo.

The mean is the Hajek (ratio) estimator sum(w y) / sum(w); its standard error is the linearised (sandwich) variance
of a ratio, sum(w^2 (y - mean)^2) / sum(w)^2, which treats the weights as fixed. Estimating the propensity on the
same data usually makes the true variance smaller (Lunceford & Davidian 2004), so the interval errs on the wide side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class MeanEstimate:
    """A mean CSAT (1-5) with its 95% interval, standard error and the respondents behind it."""

    mean: float
    low: float
    high: float
    std_error: float
    respondents: int


@dataclass(frozen=True)
class WeightedEstimate(MeanEstimate):
    """An inverse-propensity-weighted mean with its weights' diagnostics."""

    effective_sample_size: float
    max_weight: float
    trimmed: int


def _interval(mean: float, std_error: float, respondents: int) -> tuple[float, float, float, float, int]:
    return mean, mean - Z_95 * std_error, mean + Z_95 * std_error, std_error, respondents


def naive_mean(y: np.ndarray) -> MeanEstimate | None:
    """The plain mean of the answers `y` with a normal 95% interval (sample standard deviation / sqrt(n)); None
    without answers."""
    y = np.asarray(y, dtype=float)
    if len(y) == 0:
        return None
    error = float(np.std(y, ddof=1) / math.sqrt(len(y))) if len(y) > 1 else 0.0
    return MeanEstimate(*_interval(float(y.mean()), error, len(y)))


@threadpool_limits.wrap(1, user_api="blas")
def response_propensity(
    x: np.ndarray, responded: np.ndarray, *, seed: int = 0, max_fit_rows: int = 200_000
) -> np.ndarray:
    """P(answering the survey) of each row of `x` (contact features), from a standardised L2 logistic regression
    (C=1) of `responded` on them, fitted on a uniform random sample of at most `max_fit_rows` rows (fitting time grows
    with the rows; the propensities stop changing long before) and applied to every row. When every contact
    answered, or none did, the response rate itself."""
    responded = np.asarray(responded, dtype=bool)
    rate = float(responded.mean()) if len(responded) else 0.0
    if rate in (0.0, 1.0):
        return np.full(len(responded), rate)
    fit = np.arange(len(responded))
    if len(fit) > max_fit_rows:
        fit = np.sort(np.random.default_rng(seed).choice(len(fit), max_fit_rows, replace=False))
        if responded[fit].all() or not responded[fit].any():
            fit = np.arange(len(responded))
    model = Pipeline(
        [("scale", StandardScaler()), ("model", LogisticRegression(C=1.0, max_iter=2000, random_state=seed))]
    )
    return model.fit(x[fit], responded[fit]).predict_proba(x)[:, 1]


def propensity_auc(propensity: np.ndarray, responded: np.ndarray) -> float | None:
    """ROC AUC of the propensities against who answered (0.5: answering does not follow the features, and the
    weighted and plain means agree); None when all or none answered."""
    responded = np.asarray(responded, dtype=bool)
    if responded.all() or not responded.any():
        return None
    return float(roc_auc_score(responded, propensity))


def ipw_mean(
    y: np.ndarray, responded: np.ndarray, propensity: np.ndarray, *, max_weight: float = 20.0
) -> WeightedEstimate | None:
    """The Hajek inverse-propensity-weighted mean of `y` over all rows (answers where `responded`, other values
    ignored), with its 95% interval (linearised variance, weights held fixed); None without any answer.

    Weights: response rate / propensity (stabilised: 1 = an average respondent), capped at `max_weight` (`trimmed`
    counts the capped ones). Effective sample size: sum(w)^2 / sum(w^2).
    """
    responded = np.asarray(responded, dtype=bool)
    propensity = np.asarray(propensity, dtype=float)
    if not max_weight >= 1:
        raise ValueError(f"max_weight must be at least 1 (an average respondent), got {max_weight}")
    if len(responded) != len(propensity) or len(responded) != len(y):
        raise ValueError("y, responded and propensity must have one value per contact")
    if not responded.any():
        return None
    if ((propensity[responded] <= 0) | (propensity[responded] > 1)).any():
        raise ValueError("propensities of respondents must lie in (0, 1]")
    answers = np.asarray(y, dtype=float)[responded]
    weights = responded.mean() / propensity[responded]
    trimmed = int((weights > max_weight).sum())
    weights = np.minimum(weights, max_weight)
    total = weights.sum()
    mean = float((weights * answers).sum() / total)
    error = float(math.sqrt((weights**2 * (answers - mean) ** 2).sum()) / total)
    return WeightedEstimate(
        *_interval(mean, error, len(answers)),
        effective_sample_size=float(total**2 / (weights**2).sum()),
        max_weight=float(weights.max()),
        trimmed=trimmed,
    )
