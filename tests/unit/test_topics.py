"""Emerging-topic discovery (cx_signals/ml/topics.py) on hand-made texts."""

import json
import math
from datetime import date, timedelta

import polars as pl
import pytest
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from cx_signals.config import load_config
from cx_signals.ml.topics import (
    EarlierTopic,
    candidate_contacts,
    centroid_similarity,
    cluster_texts,
    discover_topics,
    match_topics,
    new_topic_id,
)

DAY = date(2026, 10, 14)
PARAMETERS = load_config().topics

LOCKER = [f"the parcel locker code {n} does not open the locker door" for n in range(8)] + [
    "my parcel locker will not open with the code",
    "locker door stuck, parcel code rejected",
]
REFUND_CARD = [f"refund went to my old expired card {n}, card is cancelled" for n in range(7)] + [
    "the refund was sent to an expired card",
]
NOISE = ["hello", "what is the weather like on mars", "sing me a song about trains"]


def test_clusters_follow_the_data_with_top_terms_and_representatives() -> None:
    texts = LOCKER + REFUND_CARD + NOISE
    topics = cluster_texts(texts, distance_threshold=0.95, min_topic_size=5)
    assert len(topics) == 2  # the three noise texts form no topic of 5
    locker, refund = topics  # largest first
    assert sorted(locker.members) == list(range(len(LOCKER)))
    assert sorted(refund.members) == list(range(len(LOCKER), len(LOCKER) + len(REFUND_CARD)))
    assert {"locker", "parcel"} <= set(locker.top_terms[:4])
    assert {"card", "refund"} <= set(refund.top_terms[:4])
    # stop words help clustering but never label a topic or enter its centroid
    for topic in topics:
        assert not any(set(term.split()) <= ENGLISH_STOP_WORDS for term in (*topic.top_terms, *topic.centroid))
    # representatives: distinct texts, nearest the centroid first, at most 5
    assert len(locker.representatives) == 5
    assert list(locker.representatives) == list(locker.members[:5])
    assert list(locker.similarities) == sorted(locker.similarities, reverse=True)
    assert all(0 <= s <= 1 for s in locker.similarities)
    assert sum(w * w for w in locker.centroid.values()) == pytest.approx(1.0)


def test_identical_texts_are_one_representative() -> None:
    topics = cluster_texts(["parcel locker broken"] * 6, distance_threshold=0.5, min_topic_size=5)
    assert len(topics) == 1 and len(topics[0].members) == 6 and len(topics[0].representatives) == 1


@pytest.mark.parametrize("texts", [[], ["hi"] * 3, ["the", "and", "of", "a", "is", "it"], ["123", "456"] * 3])
def test_too_few_or_termless_texts_give_no_topic(texts) -> None:
    assert cluster_texts(texts, distance_threshold=0.95, min_topic_size=5) == []


def test_bad_parameters_are_errors() -> None:
    with pytest.raises(ValueError, match="distance_threshold"):
        cluster_texts(LOCKER, distance_threshold=0, min_topic_size=5)
    with pytest.raises(ValueError, match="min_topic_size"):
        cluster_texts(LOCKER, distance_threshold=0.9, min_topic_size=1)


def test_matching_is_greedy_one_to_one_above_the_threshold() -> None:
    earlier = {"t-locker": {"locker": 0.8, "parcel": 0.6}, "t-card": {"card": 1.0}}
    new = [{"locker": 0.7, "parcel": 0.7}, {"locker": 1.0}, {"weather": 1.0}]
    matched = match_topics(new, earlier, 0.5)
    assert matched[0][0] == "t-locker" and matched[0][1] == pytest.approx(
        centroid_similarity(new[0], earlier["t-locker"])
    )
    assert matched[1] == (None, None)  # t-locker is taken by the closer one
    assert matched[2] == (None, None)
    assert centroid_similarity({}, {"a": 1.0}) == 0.0


def test_new_topic_ids_depend_only_on_the_members() -> None:
    assert new_topic_id(["b", "a"]) == new_topic_id(["a", "b"]) != new_topic_id(["a", "c"])
    assert new_topic_id(["a"]).startswith("topic-") and len(new_topic_id(["a"])) == 16


def frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema=["conversation_id", "partition_date", "text", "labelled", "predicted_intent", "confidence"],
        orient="row",
    )


def test_candidates_are_unlabelled_and_unknown_or_below_the_labelled_quantile() -> None:
    labelled = [(f"l{i}", DAY, "x", True, "billing", float(i)) for i in range(1, 21)]  # 1.0 .. 20.0
    rows = frame(
        [
            *labelled,
            ("unknown", DAY, "what", False, None, 0.1),
            ("low", DAY, "what", False, "billing", 0.5),  # below the 0.05 quantile (1.0)
            ("sure", DAY, "what", False, "billing", 5.0),
            ("blank", DAY, "  ", False, None, None),
            ("labelled_low", DAY, "what", True, "billing", -3.0),
        ]
    )
    assert sorted(candidate_contacts(rows, 0.05)["conversation_id"]) == ["low", "unknown"]
    assert candidate_contacts(rows, 0.0)["conversation_id"].to_list() == ["unknown"]
    with pytest.raises(ValueError, match="quantile"):
        candidate_contacts(rows, 1.0)


def locker_contacts(day: date, n_current: int, n_previous: int, prefix: str) -> list[tuple]:
    current = [
        (f"{prefix}c{i}", day - timedelta(days=i % 7), LOCKER[i % len(LOCKER)], False, None, 0.0)
        for i in range(n_current)
    ]
    previous = [
        (f"{prefix}p{i}", day - timedelta(days=7 + i % 7), LOCKER[i % len(LOCKER)], False, None, 0.0)
        for i in range(n_previous)
    ]
    return current + previous


def test_a_topic_has_weekly_sizes_growth_and_keeps_its_id_the_next_day() -> None:
    old = [(f"old{i}", DAY - timedelta(days=20), LOCKER[i], False, None, 0.0) for i in range(5)]  # before both weeks
    rows = frame([*locker_contacts(DAY, 9, 3, "a"), *old])
    topics, members = discover_topics(rows, DAY, {}, PARAMETERS)
    assert topics.height == 1
    topic = topics.row(0, named=True)
    assert (topic["size"], topic["size_previous_week"], topic["growth"]) == (9, 3, pytest.approx(2.0))
    assert topic["is_new"] and topic["first_seen"] == DAY and topic["matched_similarity"] is None
    assert topic["topic_id"] == new_topic_id(members["conversation_id"].to_list())
    assert (topic["candidates"], topic["clustered"]) == (12, 12)
    assert members.height == 12 and members["in_current_week"].sum() == 9
    representatives = members.filter(pl.col("representative_rank").is_not_null()).sort("representative_rank")
    assert representatives.height == 5 and representatives["utterance"].is_not_null().all()
    assert members.filter(pl.col("representative_rank").is_null())["utterance"].is_null().all()

    next_day = DAY + timedelta(days=1)
    earlier = {topic["topic_id"]: EarlierTopic(json.loads(topic["centroid_terms"]), DAY)}
    rows = frame(locker_contacts(next_day, 6, 6, "b"))
    later, _ = discover_topics(rows, next_day, earlier, PARAMETERS)
    assert later.height == 1
    continued = later.row(0, named=True)
    assert continued["topic_id"] == topic["topic_id"] and not continued["is_new"]
    assert continued["first_seen"] == DAY and continued["matched_similarity"] > PARAMETERS.match_similarity
    assert continued["growth"] == 0.0


def test_the_cap_keeps_the_most_recent_candidates() -> None:
    rows = frame(locker_contacts(DAY, 7, 7, "a"))
    parameters = PARAMETERS.model_copy(update={"max_texts": 7})
    topics, members = discover_topics(rows, DAY, {}, parameters)
    assert (topics["candidates"].item(), topics["clustered"].item()) == (14, 7)
    assert members["in_current_week"].all()
    assert topics["size_previous_week"].item() == 0 and topics["growth"].item() is None


def test_a_topic_only_of_last_week_is_not_listed() -> None:
    rows = frame(locker_contacts(DAY, 0, 8, "a"))
    topics, members = discover_topics(rows, DAY, {}, PARAMETERS)
    assert topics.is_empty() and members.is_empty()


def test_a_centroid_is_at_most_fully_similar_to_itself_despite_rounding() -> None:
    weights = {"https": 0.5209699277671761, "https co": 0.52, "x": 0.3, "y": 0.1}
    norm = math.sqrt(sum(w * w for w in weights.values()))
    centroid = {term: w / norm for term, w in weights.items()}  # its own dot product rounds to 1.0000000000000002
    assert centroid_similarity(centroid, centroid) == 1.0
