"""Intent triage: a TF-IDF + logistic-regression model that names each conversation's intent.

The model reads the customer's first turns, trains from conversations whose `intent` is labelled,
reports held-out metrics, and is saved as a versioned artefact by cx_signals.ml.artefacts.
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
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import FeatureUnion, Pipeline
from threadpoolctl import threadpool_limits

from cx_signals.ml import UNKNOWN_INTENT, NotEnoughLabels
from cx_signals.ml.artefacts import SavedModel

BITEXT_FILE = "Bitext_Sample_Customer_Service_Training_Dataset.csv"

# Part of every version hash: change it whenever the pipeline below changes, so that a new model
# trained on the same data does not reuse an old version.
MODEL_SPEC = "tfidf(word 1-2, char_wb 2-5, sublinear) + logreg(C=10) v1"
# Fitting and scoring use one BLAS thread: scipy's L-BFGS-B makes many small BLAS calls, and OpenBLAS' thread
# hand-offs made them about 3x slower on two busy cores (one intent model: 9 s -> 3 s). Scores do not change.
_BLAS_THREADS = 1


@dataclass(frozen=True)
class TrainedIntentModel(SavedModel):
    """A fitted intent pipeline (TF-IDF + logistic regression) with its intents, held-out metrics and training
    facts."""

    kind: ClassVar[str] = "intent"

    intents: tuple[str, ...]
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
    return Pipeline(
        [("features", features), ("classifier", LogisticRegression(C=10.0, max_iter=2000, random_state=seed))]
    )


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
) -> TrainedIntentModel:
    """Train an intent model, measure it on a stratified held-out split, then refit on all examples.

    Pairs with a blank text or a blank/"unknown" label are dropped. Identical texts (after
    lowercasing and whitespace collapse) with the same label count once, weighted by their count, so
    a repeated text never sits on both sides of the split, and input order does not matter.
    Intents with fewer than `min_examples_per_intent` distinct texts are excluded and reported.
    With more than `max_distinct_texts` distinct texts, a stratified random sample of that many (by `seed`) is
    split, evaluated and refit instead: fitting time grows with the texts and their n-grams, accuracy soon stops
    growing. Raises `NotEnoughLabels` when fewer than two intents remain.
    """
    if len(texts) != len(labels):
        raise ValueError(f"got {len(texts)} texts but {len(labels)} labels")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}")
    if min_examples_per_intent < 2:
        raise ValueError("min_examples_per_intent must be at least 2: a stratified split needs two")
    if max_distinct_texts is not None and max_distinct_texts < 1:
        raise ValueError(f"max_distinct_texts must be at least 1, got {max_distinct_texts}")

    counts: Counter[tuple[str, str]] = Counter()
    n_unlabelled = 0
    for text, label in zip(texts, labels, strict=True):
        norm, intent = _normalise(text), (label or "").strip()
        if not norm or not intent or intent == UNKNOWN_INTENT:
            n_unlabelled += 1
        else:
            counts[(intent, norm)] += 1
    examples = sorted((intent, norm, n) for (intent, norm), n in counts.items())

    distinct_per_intent = Counter(intent for intent, _, _ in examples)
    excluded = {
        intent: sum(n for i, _, n in examples if i == intent)
        for intent, n_distinct in sorted(distinct_per_intent.items())
        if n_distinct < min_examples_per_intent
    }
    kept = [e for e in examples if e[0] not in excluded]
    intents = sorted({intent for intent, _, _ in kept})
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
    }
    data_hash = _hash_examples(examples)
    version = hashlib.sha256(f"{data_hash}|{json.dumps(params, sort_keys=True)}".encode()).hexdigest()[:12]
    n_texts = len(kept)
    if max_distinct_texts is not None and n_texts > max_distinct_texts:
        kept = _sample(kept, max_distinct_texts, min_examples_per_intent, seed)

    # Integer test size: at least one example per intent on each side, which the stratifier requires.
    n_test = min(max(math.ceil(test_size * len(kept)), len(intents)), len(kept) - len(intents))
    train, test = train_test_split(kept, test_size=n_test, stratify=[e[0] for e in kept], random_state=seed)
    evaluated = _fit(train, seed)
    y_true = [e[0] for e in test]
    weights = [e[2] for e in test]
    y_pred = evaluated.predict([e[1] for e in test])
    per_class = f1_score(y_true, y_pred, labels=intents, average=None, sample_weight=weights, zero_division=0)
    metrics = {
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", sample_weight=weights, zero_division=0)),
        "accuracy": float(accuracy_score(y_true, y_pred, sample_weight=weights)),
        "n_train": sum(e[2] for e in train),
        "n_test": sum(weights),
        "n_classes": len(intents),
        "n_distinct_texts": n_texts,
        "n_distinct_texts_used": len(kept),
        "per_class_f1": {intent: float(f) for intent, f in zip(intents, per_class, strict=True)},
        "evaluation": "stratified held-out split over distinct texts; saved model refit on all examples",
    }
    return TrainedIntentModel(
        estimator=_fit(kept, seed),
        version=version,
        intents=tuple(intents),
        metrics=metrics,
        params=params,
        training_data_hash=data_hash,
        sklearn_version=sklearn.__version__,
        n_examples=sum(e[2] for e in examples if e[0] not in excluded),
        n_unlabelled_dropped=n_unlabelled,
        excluded_intents=excluded,
    )


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


def predict_intents(model: TrainedIntentModel, texts: Sequence[str | None]) -> list[tuple[str, float]]:
    """(intent, probability of that intent) for each text; a blank or missing text is ("unknown", 0.0).

    Each distinct normalised text is scored once.
    """
    normalised = [_normalise(t) for t in texts]
    distinct = list(dict.fromkeys(t for t in normalised if t))
    scored: dict[str, tuple[str, float]] = {}
    if distinct:
        with threadpool_limits(_BLAS_THREADS, user_api="blas"):
            probabilities = model.estimator.predict_proba(distinct)
        classes = model.estimator.classes_
        best = probabilities.argmax(axis=1)
        confidence = probabilities[np.arange(len(distinct)), best]
        scored = {text: (str(classes[b]), float(p)) for text, b, p in zip(distinct, best, confidence, strict=True)}
    return [scored[t] if t else (UNKNOWN_INTENT, 0.0) for t in normalised]


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
