"""Intent triage on the Bitext customer-service corpus (27 intents, ~8k utterances): held-out macro-F1."""

from __future__ import annotations

from pathlib import Path

import pytest

from cx_signals.ml.intent import BITEXT_FILE, load_bitext, predict_intents, train_intent_model

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "bitext_intents_8k"

pytestmark = pytest.mark.real_data


@pytest.fixture(scope="module")
def corpus() -> tuple[list[str], list[str]]:
    if not (DATA_DIR / BITEXT_FILE).is_file():
        pytest.skip(f"Bitext data not found: expected {DATA_DIR / BITEXT_FILE}")
    return load_bitext(DATA_DIR)


def test_held_out_macro_f1(corpus: tuple[list[str], list[str]]) -> None:
    texts, labels = corpus
    model = train_intent_model(texts, labels, test_size=0.2, seed=0)
    metrics = model.metrics
    print(
        f"Bitext held-out: macro-F1 {metrics['macro_f1']:.4f}, accuracy {metrics['accuracy']:.4f}, "
        f"n_train {metrics['n_train']}, n_test {metrics['n_test']}"
    )

    assert metrics["n_classes"] == 27
    assert model.excluded_intents == {}
    assert metrics["n_train"] + metrics["n_test"] == len(texts)
    assert 0.19 * len(texts) <= metrics["n_test"] <= 0.21 * len(texts)
    assert metrics["macro_f1"] >= 0.95
    assert min(metrics["per_class_f1"].values()) >= 0.85

    predictions = predict_intents(model, ["where is my order?", "I forgot my password", ""])
    assert [intent for intent, _ in predictions] == ["track_order", "recover_password", "unknown"]
