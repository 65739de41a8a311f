"""Intent triage: training, prediction, determinism, artefacts and first-customer-turn extraction."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from cx_signals.ml import UNKNOWN_INTENT, NotEnoughLabels
from cx_signals.ml.artefacts import load_latest_model, save_model
from cx_signals.ml.intent import (
    TrainedIntentModel,
    abstention_threshold,
    artefact_outdated,
    first_customer_texts,
    load_bitext,
    predict_intents,
    train_intent_model,
)

CORPUS = {
    "cancel_order": [
        "I want to cancel my order",
        "please cancel the order I placed yesterday",
        "how do I cancel an order",
        "cancel order 1234 please",
        "I need to cancel a purchase I just made",
        "can you cancel my recent order",
        "I changed my mind, cancel the order",
        "help me cancel my order",
        "I would like to cancel the item I ordered",
        "stop my order, I don't want it anymore",
        "is it too late to cancel my order",
        "cancel the purchase please",
        "I ordered the wrong thing, cancel it",
        "need to cancel an order asap",
        "how can I cancel what I ordered",
        "cancelling my order",
        "I want my order cancelled",
        "please stop and cancel order",
        "cancel everything I ordered today",
        "can I still cancel the order",
    ],
    "track_order": [
        "where is my order",
        "track my package",
        "when will my parcel arrive",
        "my order has not arrived yet",
        "can you tell me where my package is",
        "I want to track my delivery",
        "what is the status of my order",
        "tracking number for my order",
        "my parcel is late, where is it",
        "has my order shipped",
        "when does my delivery arrive",
        "where's my package",
        "I haven't received my order",
        "check the delivery status",
        "is my parcel on the way",
        "how do I track the shipment",
        "order still not delivered",
        "where is the shipment I ordered",
        "find my package please",
        "track shipment status",
    ],
    "get_refund": [
        "I want a refund",
        "how do I get my money back",
        "please refund my payment",
        "I was charged twice, refund me",
        "can I get a refund for this item",
        "return the money to my card",
        "I need a refund for a broken product",
        "refund request",
        "give me my money back",
        "when will I receive my refund",
        "I'd like to be reimbursed",
        "how long does a refund take",
        "refund the amount to my account",
        "I returned the item, where is my refund",
        "money back please",
        "requesting a full refund",
        "refund for my cancelled subscription",
        "I deserve a refund",
        "get a refund on my purchase",
        "want my money refunded",
    ],
    "recover_password": [
        "I forgot my password",
        "reset my password please",
        "can't log in, forgot password",
        "how do I change my password",
        "password reset link not working",
        "I need a new password",
        "locked out of my account, forgot the password",
        "help me recover my password",
        "recover account password",
        "my password doesn't work",
        "send me a password reset email",
        "I can't remember my password",
        "how to reset password",
        "lost my password",
        "password recovery",
        "unable to sign in, wrong password",
        "change the password on my account",
        "forgotten password help",
        "reset login password",
        "I don't know my password anymore",
    ],
}
TEXTS = [t for texts in CORPUS.values() for t in texts]
LABELS = [intent for intent, texts in CORPUS.items() for _ in texts]
CREATED_AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def model() -> TrainedIntentModel:
    return train_intent_model(TEXTS, LABELS)


def test_trains_and_predicts_sensibly(model: TrainedIntentModel) -> None:
    predictions = predict_intents(
        model,
        [
            "please cancel my order now",
            "where is my parcel",
            "I want my money back",
            "I forgot the password to my account",
        ],
    )
    assert [intent for intent, _ in predictions] == [
        "cancel_order",
        "track_order",
        "get_refund",
        "recover_password",
    ]
    assert all(confidence >= model.abstention_threshold for _, confidence in predictions)
    assert model.intents == ("cancel_order", "get_refund", "recover_password", "track_order")


def test_reports_held_out_metrics(model: TrainedIntentModel) -> None:
    metrics = model.metrics
    assert metrics["n_train"] + metrics["n_test"] == len(TEXTS)
    assert metrics["n_test"] == 16
    assert metrics["n_classes"] == 4
    assert set(metrics["per_class_f1"]) == set(CORPUS)
    assert 0.0 <= metrics["accuracy"] <= 1.0
    assert metrics["macro_f1"] >= 0.8
    assert "refit on all" in metrics["evaluation"]
    assert model.n_examples == len(TEXTS)
    json.dumps(model.metadata())


def test_same_data_in_any_order_gives_same_version_and_predictions(model: TrainedIntentModel) -> None:
    again = train_intent_model(TEXTS[::-1], LABELS[::-1])
    probe = ["cancel it", "where is it", "refund", "password", "hello there"]
    assert again.version == model.version
    assert again.training_data_hash == model.training_data_hash
    assert again.metrics == model.metrics
    assert predict_intents(again, probe) == predict_intents(model, probe)


def test_version_changes_with_data_or_params(model: TrainedIntentModel) -> None:
    assert train_intent_model([*TEXTS, "cancel my order today"], [*LABELS, "cancel_order"]).version != (model.version)
    assert train_intent_model(TEXTS, LABELS, seed=1).version != model.version


def test_drops_unlabelled_and_excludes_rare_intents() -> None:
    texts = [*TEXTS, "hello", "", "   ", "what's the weather", "lost card"]
    labels = [*LABELS, None, "cancel_order", "track_order", UNKNOWN_INTENT, "card_lost"]
    trained = train_intent_model(texts, labels)
    assert trained.n_unlabelled_dropped == 4
    assert trained.excluded_intents == {"card_lost": 1}
    assert "card_lost" not in trained.intents
    assert trained.n_examples == len(TEXTS)


def test_duplicate_texts_stay_on_one_side_of_the_split() -> None:
    texts = [*TEXTS, *["I want to cancel my order"] * 30]
    labels = [*LABELS, *["cancel_order"] * 30]
    trained = train_intent_model(texts, labels)
    assert trained.n_examples == len(texts)
    assert trained.metrics["n_train"] + trained.metrics["n_test"] == len(texts)
    assert trained.metrics["n_test"] in (16, 16 + 30)


@pytest.mark.parametrize(
    ("texts", "labels"),
    [
        ([], []),
        (["cancel my order", "cancel it please"], ["cancel_order", "cancel_order"]),
        (["cancel my order", "where is it", "where is my parcel"], ["cancel_order", None, "track_order"]),
        (["a b", "c d", "e f"], ["x", "y", "y"]),
    ],
)
def test_not_enough_labels(texts: list[str], labels: list[str | None]) -> None:
    with pytest.raises(NotEnoughLabels):
        train_intent_model(texts, labels)


def test_smallest_trainable_corpus() -> None:
    trained = train_intent_model(
        ["cancel my order", "cancel it", "where is it", "where is my parcel"],
        [
            "cancel_order",
            "cancel_order",
            "track_order",
            "track_order",
        ],
    )
    assert trained.metrics["n_train"] == 2
    assert trained.metrics["n_test"] == 2


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="labels"):
        train_intent_model(["a"], [])
    with pytest.raises(ValueError, match="test_size"):
        train_intent_model(TEXTS, LABELS, test_size=1.0)
    with pytest.raises(ValueError, match="min_examples_per_intent"):
        train_intent_model(TEXTS, LABELS, min_examples_per_intent=1)


def test_empty_text_is_unknown(model: TrainedIntentModel) -> None:
    predictions = predict_intents(model, ["", None, "  \n", "where is my package"])
    assert predictions[:3] == [(UNKNOWN_INTENT, None)] * 3
    assert predictions[3][0] == "track_order"
    assert predict_intents(model, []) == []
    assert predict_intents(model, [""]) == [(UNKNOWN_INTENT, None)]


def test_save_and_load_round_trip(model: TrainedIntentModel, tmp_path: Path) -> None:
    assert load_latest_model(tmp_path / "missing", TrainedIntentModel) is None
    path = save_model(model, tmp_path / "models", created_at=CREATED_AT)
    assert path.name == f"intent-model-{model.version}.joblib"
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["created_at"] == "2024-05-01T12:00:00+00:00"
    assert sidecar["metrics"] == model.metrics
    assert sidecar["training_data_hash"] == model.training_data_hash

    loaded = load_latest_model(tmp_path / "models", TrainedIntentModel)
    assert loaded is not None
    assert loaded.metadata() == model.metadata()
    probe = ["cancel it", "where is it", "", "refund"]
    assert predict_intents(loaded, probe) == predict_intents(model, probe)


def test_load_latest_picks_most_recent(model: TrainedIntentModel, tmp_path: Path) -> None:
    newer = train_intent_model(TEXTS, LABELS, seed=1)
    save_model(newer, tmp_path, created_at=CREATED_AT + timedelta(days=1))
    save_model(model, tmp_path, created_at=CREATED_AT)
    loaded = load_latest_model(tmp_path, TrainedIntentModel)
    assert loaded is not None and loaded.version == newer.version

    # A sidecar without its model file (an interrupted save) is ignored.
    (tmp_path / f"intent-model-{newer.version}.joblib").unlink()
    loaded = load_latest_model(tmp_path, TrainedIntentModel)
    assert loaded is not None and loaded.version == model.version


def test_save_requires_timezone_aware_created_at(model: TrainedIntentModel, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone"):
        save_model(model, tmp_path, created_at=datetime(2024, 5, 1))


def _turns(rows: list[tuple[str, str, int, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"conversation_id": pl.String, "speaker": pl.String, "ts": pl.Int64, "text": pl.String},
        orient="row",
    )


def test_first_customer_texts_edge_cases() -> None:
    turns = _turns(
        [
            ("c1", "customer", 3, "third"),
            ("c1", "bot", 1, "hello, how can I help?"),
            ("c1", "customer", 2, "first"),
            ("c1", "customer", 2, "second"),  # same ts: input order breaks the tie
            ("c2", "customer", 1, "  only turn  "),
            ("c3", "bot", 1, "anyone there?"),
            ("c3", "agent", 2, "closing"),
            ("c4", "customer", 1, ""),
            ("c4", "customer", 2, None),
            ("c4", "customer", 3, "   "),
            ("c5", "customer", 1, ""),
            ("c5", "customer", 2, "after a blank"),
        ]
    )
    result = first_customer_texts(turns)
    assert result.columns == ["conversation_id", "text"]
    assert result.rows() == [
        ("c1", "first second"),
        ("c2", "only turn"),
        ("c3", ""),
        ("c4", ""),
        ("c5", "after a blank"),
    ]
    assert first_customer_texts(turns, n_turns=3)["text"][0] == "first second third"
    assert first_customer_texts(turns.head(0)).height == 0
    with pytest.raises(ValueError, match="n_turns"):
        first_customer_texts(turns, n_turns=0)


def test_load_bitext(tmp_path: Path) -> None:
    csv_path = tmp_path / "Bitext_Sample_Customer_Service_Training_Dataset.csv"
    csv_path.write_bytes(
        'flags,utterance,category,intent\nB,"cancel my order, please",ORDER,cancel_order\n'
        "BL,où est ma commande,ORDER,track_order\n".encode("utf-8-sig")
    )
    expected = (["cancel my order, please", "où est ma commande"], ["cancel_order", "track_order"])
    assert load_bitext(csv_path) == expected
    assert load_bitext(tmp_path) == expected

    (tmp_path / "bad.csv").write_text("flags,text\nB,hi\n")
    with pytest.raises(ValueError, match="utterance"):
        load_bitext(tmp_path / "bad.csv")


def _first_customer_texts_in_polars(turns: pl.DataFrame, n_turns: int) -> pl.DataFrame:
    # the polars definition the SQL replaced (ties broken by input order)
    customer = (
        turns.sort(["conversation_id", "ts"], maintain_order=True)
        .with_columns(pl.col("text").str.strip_chars())
        .filter((pl.col("speaker") == "customer") & (pl.col("text").str.len_chars() > 0))
        .group_by("conversation_id", maintain_order=True)
        .agg(pl.col("text").head(n_turns).str.join(" "))
    )
    return (
        turns.select("conversation_id")
        .unique()
        .join(customer, on="conversation_id", how="left")
        .with_columns(pl.col("text").fill_null(""))
        .sort("conversation_id")
    )


def test_first_customer_texts_strips_and_skips_the_whitespace_polars_does() -> None:
    rng = random.Random(5)
    pieces = ["a", "b c", " ", "\t", "\n", "\x0b", "\x1c", "\x85", "\xa0", "\u2003", "\u200b", "\u3000", "é", ""]
    rows = [
        (
            f"c{rng.randrange(40):02d}",
            rng.choice(["customer", "customer", "bot"]),
            rng.randrange(6),
            None if rng.random() < 0.05 else "".join(rng.choices(pieces, k=rng.randrange(4))),
        )
        for _ in range(600)
    ]
    turns = _turns(rows)
    for n_turns in (1, 2, 3):
        assert (
            first_customer_texts(turns, n_turns=n_turns).rows()
            == _first_customer_texts_in_polars(turns, n_turns).rows()
        )


def test_many_distinct_texts_train_on_a_stratified_sample_in_any_order() -> None:
    texts = [f"{text} ref {n}" for n in range(30) for text in TEXTS]
    labels = LABELS * 30
    sampled = train_intent_model(texts, labels, max_distinct_texts=200)
    assert sampled.metrics["n_distinct_texts"] == len(texts)
    assert 200 <= sampled.metrics["n_distinct_texts_used"] <= 200 + len(CORPUS)
    assert sampled.metrics["n_train"] + sampled.metrics["n_test"] == sampled.metrics["n_distinct_texts_used"]
    assert sampled.intents == tuple(sorted(CORPUS)) and sampled.n_examples == len(texts)
    assert sampled.metrics["accuracy"] >= 0.9
    shuffled = train_intent_model(texts[::-1], labels[::-1], max_distinct_texts=200)
    assert shuffled.version == sampled.version and shuffled.metrics == sampled.metrics
    assert train_intent_model(texts, labels).metrics["n_distinct_texts_used"] == len(texts)
    with pytest.raises(ValueError, match="max_distinct_texts"):
        train_intent_model(texts, labels, max_distinct_texts=0)


def test_abstention_threshold_is_the_lowest_score_reaching_the_target_precision() -> None:
    scores = [0.9, 0.8, 0.7, 0.6, 0.5]
    correct = [True, True, False, True, False]
    ones = [1.0] * 5
    assert abstention_threshold(scores, correct, ones, 1.0) == 0.8
    assert abstention_threshold(scores, correct, ones, 0.75) == 0.6
    assert abstention_threshold(scores, correct, ones, 0.5) == 0.5
    # nothing reaches the target: only the best-scored answer is kept
    assert abstention_threshold(scores, [False] * 5, ones, 0.9) == 0.9
    # tied scores are answered together: 0.7 cannot be kept without its wrong twin
    assert abstention_threshold([0.9, 0.7, 0.7], [True, True, False], [1.0] * 3, 0.75) == 0.9
    # weights count repeated texts
    assert abstention_threshold(scores, correct, [1.0, 1.0, 1.0, 5.0, 1.0], 0.8) == 0.6
    with pytest.raises(ValueError, match="no held-out"):
        abstention_threshold([], [], [], 0.9)


def test_out_of_scope_labels_are_learned_but_never_predicted() -> None:
    off_topic = [
        "what is the weather like in paris",
        "tell me a joke about cats",
        "who won the football game last night",
        "how tall is mount everest",
        "recommend a good pizza recipe",
        "what time is sunset today",
        "play some jazz music",
        "translate hello into spanish",
        "how many calories are in an apple",
        "what is the capital of peru",
    ]
    model = train_intent_model(
        TEXTS + off_topic, LABELS + ["oos"] * len(off_topic), out_of_scope_labels=["oos"], target_precision=0.9
    )
    assert "oos" not in model.intents and len(model.intents) == 4
    assert model.params["out_of_scope_labels"] == ["oos"]
    assert model.metrics["n_out_of_scope_test"] >= 1
    assert model.metrics["out_of_scope_recall"] is not None
    assert model.metrics["answered_precision"] >= 0.9
    predictions = predict_intents(model, ["what is the weather like in paris", "please cancel my order now"])
    assert predictions[0][0] == UNKNOWN_INTENT
    assert predictions[1][0] == "cancel_order"
    assert model.metadata()["abstention_threshold"] == model.abstention_threshold


def test_an_artefact_without_a_threshold_is_outdated(model: TrainedIntentModel) -> None:
    assert artefact_outdated(model.metadata()) is None
    old = {k: v for k, v in model.metadata().items() if k != "abstention_threshold"}
    assert "predates abstention" in (artefact_outdated(old) or "")
