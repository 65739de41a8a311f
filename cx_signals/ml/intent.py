"""Intent triage: a TF-IDF + linear SVM model that names each conversation's intent, or abstains.

The model reads the customer's first turns and trains from conversations whose `intent` is labelled; labels known
to mean "out of scope" are learned as one extra class that is never predicted. Its confidence in an intent is the
decision score of the best in-scope intent minus that of the out-of-scope class (or the best score alone when there
are no out-of-scope labels). The abstention threshold comes from the labelled data: a stratified held-out split is
scored by a model fitted on the rest, and the threshold is the lowest score at which the held-out in-scope contacts
it answers reach the target precision. The model reports held-out metrics and is saved, with its threshold, as a
versioned artefact by cx_signals.ml.artefacts.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import duckdb
import numpy as np
import polars as pl
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from cx_signals.ml import UNKNOWN_INTENT, NotEnoughLabels
from cx_signals.ml.artefacts import SavedModel

BITEXT_FILE = "Bitext_Sample_Customer_Service_Training_Dataset.csv"

# Part of every version hash: change it whenever the pipeline below changes, so that a new model
# trained on the same data does not reuse an old version.
MODEL_SPEC = "tfidf(word 1-2, char_wb 2-5, sublinear) + linear svm(C=1), out-of-scope class, abstention v2"
# The class that out-of-scope labels are learned as; the angle brackets keep it apart from any real intent name.
OUT_OF_SCOPE = "<out of scope>"
# Fitting and scoring use one BLAS thread: OpenBLAS' thread hand-offs made the many small BLAS calls about 3x slower
# on two busy cores. Scores do not change.
_BLAS_THREADS = 1


@dataclass(frozen=True)
class TrainedIntentModel(SavedModel):
    """A fitted intent pipeline (TF-IDF + linear SVM) with its intents, abstention threshold (a decision score,
    set on held-out labelled data), held-out metrics and training facts."""

    kind: ClassVar[str] = "intent"

    intents: tuple[str, ...]
    abstention_threshold: float
    n_examples: int
    n_unlabelled_dropped: int
    excluded_intents: dict[str, int]


# Polars' strip_chars() whitespace (Unicode White_Space), as an RE2 class, so that the SQL below drops exactly the
# turns it would.
_WHITESPACE = r"[\t\n\x{0B}\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]"


def first_customer_texts_sql(turns: str, n_turns: int = 2, order_by: Sequence[str] = ("ts",)) -> str:
    """DuckDB SQL of `first_customer_texts` over the relation `turns` (a table name or a parenthesised query).

    `order_by` must not tie within a conversation (the pipeline orders by turn_index).
    """
    if n_turns < 1:
        raise ValueError(f"n_turns must be at least 1, got {n_turns}")
    order = ", ".join(f'"{c}"' for c in order_by)
    return f"""
        WITH customer AS (
            SELECT conversation_id, regexp_replace(text, '^{_WHITESPACE}+|{_WHITESPACE}+$', '', 'g') AS text,
                   row_number() OVER (PARTITION BY conversation_id ORDER BY {order}) AS position
            FROM {turns}
            WHERE speaker = 'customer' AND text IS NOT NULL AND NOT regexp_full_match(text, '{_WHITESPACE}*')
        ),
        firsts AS (
            SELECT conversation_id, string_agg(text, ' ' ORDER BY position) AS text
            FROM customer WHERE position <= {int(n_turns)} GROUP BY conversation_id
        )
        SELECT conversation_id, coalesce(f.text, '') AS text
        FROM (SELECT DISTINCT conversation_id FROM {turns}) LEFT JOIN firsts AS f USING (conversation_id)
        ORDER BY conversation_id
    """


def first_customer_texts(turns: pl.DataFrame, n_turns: int = 2, order_by: Sequence[str] = ("ts",)) -> pl.DataFrame:
    """Per conversation, the first `n_turns` non-blank customer turns, stripped and joined by a space.

    `turns` needs `conversation_id`, `speaker`, `text` and the `order_by` columns; ties keep input
    order. Every conversation in `turns` gets a row (sorted by id); one without customer text gets "".
    """
    frame = turns.select("conversation_id", "speaker", "text", *order_by).with_row_index("_input_order")
    sql = first_customer_texts_sql("frame", n_turns, (*order_by, "_input_order"))
    with duckdb.connect() as con:
        con.register("frame", frame.to_arrow())
        return pl.from_arrow(con.execute(sql).to_arrow_table())


def _normalise(text: str | None) -> str:
    # The vectorisers lowercase anyway; normalising first lets identical texts be counted once.
    return " ".join((text or "").lower().split())


def _build_pipeline(seed: int) -> Pipeline:
    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
        ]
    )
    return Pipeline([("features", features), ("classifier", LinearSVC(C=1.0, random_state=seed))])


def _hash_examples(examples: Sequence[tuple[str, str, int]]) -> str:
    digest = hashlib.sha256()
    for example in examples:
        digest.update(json.dumps(example, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


@threadpool_limits.wrap(_BLAS_THREADS, user_api="blas")
def train_intent_model(
    texts: Sequence[str | None],
    labels: Sequence[str | None],
    *,
    test_size: float = 0.2,
    seed: int = 0,
    min_examples_per_intent: int = 2,
    max_distinct_texts: int | None = None,
    out_of_scope_labels: Sequence[str] = (),
    target_precision: float = 0.96,
) -> TrainedIntentModel:
    """Train an intent model, set its abstention threshold and measure it on a stratified held-out split, then refit
    on all examples.

    Pairs with a blank text or a blank/"unknown" label are dropped; labels in `out_of_scope_labels` are learned as
    one out-of-scope class that is never predicted. Identical texts (after lowercasing and whitespace collapse) with
    the same label count once, weighted by their count, so a repeated text never sits on both sides of the split,
    and input order does not matter. Intents with fewer than `min_examples_per_intent` distinct texts are excluded
    and reported. The abstention threshold is the lowest held-out decision score at which the in-scope held-out
    contacts answered reach `target_precision` (share answered right). With more than `max_distinct_texts`
    distinct texts, a stratified random sample of that many (by `seed`) is split, evaluated and refit instead:
    fitting time grows with the texts and their n-grams, accuracy soon stops growing. Raises `NotEnoughLabels` when
    fewer than two intents remain.
    """
    if len(texts) != len(labels):
        raise ValueError(f"got {len(texts)} texts but {len(labels)} labels")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}")
    if min_examples_per_intent < 2:
        raise ValueError("min_examples_per_intent must be at least 2: a stratified split needs two")
    if max_distinct_texts is not None and max_distinct_texts < 1:
        raise ValueError(f"max_distinct_texts must be at least 1, got {max_distinct_texts}")
    if not 0 < target_precision <= 1:
        raise ValueError(f"target_precision must be in (0, 1], got {target_precision}")

    out_of_scope = {label.strip() for label in out_of_scope_labels}
    counts: Counter[tuple[str, str]] = Counter()
    n_unlabelled = 0
    for text, label in zip(texts, labels, strict=True):
        norm, intent = _normalise(text), (label or "").strip()
        if not norm or not intent or intent == UNKNOWN_INTENT:
            n_unlabelled += 1
        else:
            counts[(OUT_OF_SCOPE if intent in out_of_scope else intent, norm)] += 1
    examples = sorted((intent, norm, n) for (intent, norm), n in counts.items())

    distinct_per_intent = Counter(intent for intent, _, _ in examples)
    excluded = {
        intent: sum(n for i, _, n in examples if i == intent)
        for intent, n_distinct in sorted(distinct_per_intent.items())
        if n_distinct < min_examples_per_intent
    }
    kept = [e for e in examples if e[0] not in excluded]
    intents = sorted({intent for intent, _, _ in kept} - {OUT_OF_SCOPE})
    if len(intents) < 2:
        raise NotEnoughLabels(
            f"need at least 2 intents with >= {min_examples_per_intent} distinct texts each; "
            f"found {len(intents)} ({', '.join(intents) or 'none'}); excluded as too small: {excluded}"
        )

    params = {
        "model": MODEL_SPEC,
        "test_size": test_size,
        "seed": seed,
        "min_examples_per_intent": min_examples_per_intent,
        "max_distinct_texts": max_distinct_texts,
        "out_of_scope_labels": sorted(out_of_scope),
        "target_precision": target_precision,
    }
    data_hash = _hash_examples(examples)
    version = hashlib.sha256(f"{data_hash}|{json.dumps(params, sort_keys=True)}".encode()).hexdigest()[:12]
    n_texts = len(kept)
    if max_distinct_texts is not None and n_texts > max_distinct_texts:
        kept = _sample(kept, max_distinct_texts, min_examples_per_intent, seed)

    # Integer test size: at least one example per class on each side, which the stratifier requires.
    n_classes = len({e[0] for e in kept})
    n_test = min(max(math.ceil(test_size * len(kept)), n_classes), len(kept) - n_classes)
    train, test = train_test_split(kept, test_size=n_test, stratify=[e[0] for e in kept], random_state=seed)
    predicted, scores = _score(_fit(train, seed), [e[1] for e in test])
    truth = np.array([e[0] for e in test])
    weights = np.array([e[2] for e in test], dtype=float)
    in_scope = truth != OUT_OF_SCOPE
    threshold = abstention_threshold(
        scores[in_scope], predicted[in_scope] == truth[in_scope], weights[in_scope], target_precision
    )
    answered = scores >= threshold
    y_true, y_pred, w_in = truth[in_scope].tolist(), predicted[in_scope].tolist(), weights[in_scope]
    per_class = f1_score(y_true, y_pred, labels=intents, average=None, sample_weight=w_in, zero_division=0)
    right = (predicted == truth) & in_scope
    metrics = {
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", sample_weight=w_in, zero_division=0)),
        "accuracy": float(accuracy_score(y_true, y_pred, sample_weight=w_in)),
        "abstention_threshold": threshold,
        "in_scope_accuracy_with_abstention": _share(weights, right & answered, in_scope),
        "answered_precision": _share(weights, right & answered, answered & in_scope),
        "in_scope_answered_share": _share(weights, answered, in_scope),
        "out_of_scope_recall": _share(weights, ~answered, ~in_scope) if (~in_scope).any() else None,
        "n_train": sum(e[2] for e in train),
        "n_test": int(weights.sum()),
        "n_out_of_scope_test": int(weights[~in_scope].sum()),
        "n_classes": len(intents),
        "n_distinct_texts": n_texts,
        "n_distinct_texts_used": len(kept),
        "per_class_f1": {intent: float(f) for intent, f in zip(intents, per_class, strict=True)},
        "evaluation": "stratified held-out split over distinct texts (in-scope rows, before abstention for F1 and "
        "accuracy); the same split sets the abstention threshold; saved model refit on all examples",
    }
    return TrainedIntentModel(
        estimator=_fit(kept, seed),
        version=version,
        intents=tuple(intents),
        abstention_threshold=threshold,
        metrics=metrics,
        params=params,
        training_data_hash=data_hash,
        sklearn_version=sklearn.__version__,
        n_examples=sum(e[2] for e in examples if e[0] not in excluded),
        n_unlabelled_dropped=n_unlabelled,
        excluded_intents=excluded,
    )


def artefact_outdated(sidecar: dict) -> str | None:
    """Why a saved intent artefact (its sidecar) cannot score with this code and must be retrained, or None: one
    saved before abstention thresholds has no threshold, and its scores are probabilities, not decision scores."""
    if "abstention_threshold" not in sidecar:
        return f"intent model {sidecar.get('version', '?')} predates abstention thresholds ({MODEL_SPEC})"
    return None


def _share(weights: np.ndarray, hits: np.ndarray, among: np.ndarray) -> float | None:
    """Weighted share of `hits` among the rows `among`; None when there are none."""
    total = float(weights[among].sum())
    return float(weights[hits & among].sum()) / total if total else None


def abstention_threshold(
    scores: Sequence[float] | np.ndarray,
    correct: Sequence[bool] | np.ndarray,
    weights: Sequence[float] | np.ndarray,
    target_precision: float,
) -> float:
    """The lowest of `scores` such that the (weighted) share of `correct` among the rows scoring at least it reaches
    `target_precision`; the highest score when no threshold reaches it. Scores are decision scores (no unit)."""
    scores, correct, weights = np.asarray(scores, float), np.asarray(correct, bool), np.asarray(weights, float)
    if scores.size == 0:
        raise ValueError("no held-out in-scope scores to set the abstention threshold from")
    order = np.argsort(-scores, kind="stable")
    ordered = scores[order]
    # cumulative precision when answering the top k, evaluated only where the score changes (ties answered together)
    precision = np.cumsum(weights[order] * correct[order]) / np.cumsum(weights[order])
    last_of_tie = np.append(ordered[1:] != ordered[:-1], True)
    reaching = np.flatnonzero(last_of_tie & (precision >= target_precision))
    return float(ordered[reaching[-1]] if reaching.size else ordered[0])


def _sample(examples: Sequence[tuple[str, str, int]], size: int, minimum: int, seed: int) -> list[tuple[str, str, int]]:
    """About `size` of the sorted `examples`, each intent in its share but with at least `minimum` (or all it has),
    drawn at random by `seed`; sorted."""
    rng = np.random.default_rng(seed)
    groups: dict[str, list[tuple[str, str, int]]] = {}
    for example in examples:
        groups.setdefault(example[0], []).append(example)
    sample = []
    for group in groups.values():
        quota = min(len(group), max(minimum, math.ceil(size * len(group) / len(examples))))
        sample.extend(group[i] for i in sorted(rng.permutation(len(group))[:quota]))
    return sorted(sample)


def _fit(examples: Sequence[tuple[str, str, int]], seed: int) -> Pipeline:
    pipeline = _build_pipeline(seed)
    pipeline.fit(
        [e[1] for e in examples],
        [e[0] for e in examples],
        classifier__sample_weight=[e[2] for e in examples],
    )
    return pipeline


def _score(estimator: Pipeline, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Best in-scope intent and its confidence (decision score, minus the out-of-scope class's when there is one)
    for each text."""
    classes = np.asarray(estimator.classes_)
    decision = estimator.decision_function(texts)
    if decision.ndim == 1:  # two classes: one score, for classes[1]
        decision = np.column_stack([-decision, decision])
    out_of_scope = classes == OUT_OF_SCOPE
    in_scope = decision[:, ~out_of_scope]
    best = in_scope.argmax(axis=1)
    score = in_scope[np.arange(len(texts)), best]
    if out_of_scope.any():
        score = score - decision[:, out_of_scope][:, 0]
    return classes[~out_of_scope][best], score


def predict_intents(model: TrainedIntentModel, texts: Sequence[str | None]) -> list[tuple[str, float | None]]:
    """(intent, confidence) for each text: the best in-scope intent, or "unknown" when its confidence (a decision
    score) is below the model's abstention threshold; a blank or missing text is ("unknown", None).

    Each distinct normalised text is scored once.
    """
    normalised = [_normalise(t) for t in texts]
    distinct = list(dict.fromkeys(t for t in normalised if t))
    scored: dict[str, tuple[str, float | None]] = {}
    if distinct:
        with threadpool_limits(_BLAS_THREADS, user_api="blas"):
            intents, scores = _score(model.estimator, distinct)
        scored = {
            text: (str(intent) if score >= model.abstention_threshold else UNKNOWN_INTENT, float(score))
            for text, intent, score in zip(distinct, intents, scores, strict=True)
        }
    return [scored[t] if t else (UNKNOWN_INTENT, None) for t in normalised]


def load_bitext(path: Path) -> tuple[list[str], list[str]]:
    """(utterances, intents) from the Bitext customer-service CSV, given the file or its directory."""
    csv_path = path / BITEXT_FILE if path.is_dir() else path
    with csv_path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = {"utterance", "intent"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{csv_path}: missing column(s) {sorted(missing)}")
        rows = [(row["utterance"], row["intent"]) for row in reader]
    return [r[0] for r in rows], [r[1] for r in rows]
