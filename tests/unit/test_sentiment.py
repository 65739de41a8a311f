"""score_texts gives exactly VADER's scores on capped texts, in order, fast, in and out of process."""

import time
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from cx_signals import sentiment
from cx_signals.sentiment import (
    NEUTRAL,
    SentimentScore,
    benchmark,
    benchmark_report,
    cap_text,
    load_vader_tweets,
    pearson_r,
    score_texts,
)

SIA = SentimentIntensityAnalyzer()

SAMPLE = [
    "Thanks, that fixed it!",
    "I have been waiting for an hour and nobody has helped me. This is ridiculous!!!",
    "The agent was not helpful at all.",
    "It was GREAT but the delivery was awful",
    "I don't hate it :)",
    "Never so happy with a purchase",
    "kind of ok I guess?",
    "can I speak to a human???",
    "😡😡 my card was declined 💔",
    "at least it works",
    "The refund was not bad, not bad at all",
    ".",
    "ok",
    "Ich bin sehr zufrieden, merci beaucoup ☺️",
]


def vader(text: str) -> SentimentScore:
    scores = SIA.polarity_scores(text)
    return SentimentScore(scores["compound"], scores["pos"], scores["neu"], scores["neg"])


def expected(text: str | None, max_chars: int = 2000, max_emoji: int = 50) -> SentimentScore:
    if text is None:
        return NEUTRAL
    capped = cap_text(text, max_chars, max_emoji)
    return NEUTRAL if not capped.strip() else vader(capped)


@pytest.fixture
def always_parallel():
    with mock.patch.object(sentiment, "MIN_PARALLEL_CHARS", 0):
        yield


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t "])
def test_text_without_words_is_neutral(text):
    assert score_texts([text]) == [NEUTRAL]
    assert SentimentScore(compound=0.0, pos=0.0, neu=1.0, neg=0.0) == NEUTRAL


def test_empty_input():
    assert score_texts([]) == []


def test_identical_to_plain_vader_on_varied_sample():
    assert score_texts(SAMPLE, processes=1) == [vader(t) for t in SAMPLE]


def test_order_preserved_with_duplicates():
    texts = ["great", None, "awful", "great", "", "ok", "awful", "great"]
    got = score_texts(texts, processes=1)
    assert got == [expected(t) for t in texts]
    assert got[0] == got[3] == got[7] and got[2] == got[6]
    assert got[0].compound > 0 > got[2].compound


def test_long_text_is_capped_and_fast():
    unit = "I love this but the service was terrible and not good at all. "
    text = unit * (5_000_000 // len(unit))  # ~5 MB: uncapped VADER would take more than a day
    start = time.perf_counter()
    got = score_texts([text])
    assert time.perf_counter() - start < 2.0
    assert cap_text(text) == text[:2000]
    assert got == [vader(text[:2000])]


def test_emoji_heavy_text_is_capped_and_fast():
    text = "😀" * 100_000 + " this is awful"
    start = time.perf_counter()
    got = score_texts([text])
    assert time.perf_counter() - start < 2.0
    assert cap_text(text) == "😀" * 50
    assert got == [vader("😀" * 50)]


def test_cap_counts_only_emoji_vader_replaces():
    assert cap_text("short text") == "short text"
    assert cap_text("abcdef", max_chars=3) == "abc"
    # The 3rd lexicon emoji and everything after it are dropped; é and the variation selector
    # (U+FE0F, which VADER never replaces) do not count.
    assert cap_text("é😀 a ☺️ b 😡 c", max_emoji=2) == "é😀 a ☺️ b "
    assert cap_text("😀 hi", max_emoji=0) == ""
    assert score_texts(["😀 hi"], max_emoji=0) == [NEUTRAL]
    with pytest.raises(ValueError):
        cap_text("x", max_chars=-1)


def test_each_distinct_capped_text_scored_once():
    texts = ["good", "bad", "good", "good day", "good day!"]
    with mock.patch.object(sentiment, "_score_batch", wraps=sentiment._score_batch) as spy:
        got = score_texts(texts, processes=1, max_chars=4)
    assert [list(call.args[0]) for call in spy.call_args_list] == [["good", "bad"]]
    assert got == [vader("good"), vader("bad"), vader("good"), vader("good"), vader("good")]


def test_small_input_stays_in_process():
    with mock.patch.object(sentiment.multiprocessing, "get_context") as get_context:
        score_texts(SAMPLE * 10, processes=2)
    get_context.assert_not_called()


@pytest.mark.usefixtures("always_parallel")
def test_processes_1_and_2_identical():
    texts = [f"{t} #{i % 7}" for i, t in enumerate(SAMPLE * 5)] + [None, "", *SAMPLE]
    one = score_texts(texts, processes=1)
    two = score_texts(texts, processes=2, batch_size=3)
    assert one == two == [expected(t) for t in texts]


@pytest.mark.usefixtures("always_parallel")
def test_spawn_workers_identical():
    assert score_texts(SAMPLE, processes=2, start_method="spawn") == [vader(t) for t in SAMPLE]


def test_rejects_bad_arguments():
    with pytest.raises(ValueError):
        score_texts(["x"], processes=0)
    with pytest.raises(ValueError):
        score_texts(["x"], batch_size=0)


TOKENS = [
    "good",
    "bad",
    "not",
    "very",
    "but",
    "no",
    "never",
    "so",
    "kind",
    "of",
    "least",
    "GREAT",
    "the",
    "hate",
    "love",
    "!",
    "?",
    ":)",
    ":(",
    "😀",
    "😡",
    "💔",
    "☺️",
    "é",
    "sort",
    "without",
    "doubt",
    "at",
    "cut",
    "mustard",
    "ok",
    "  ",
    "\n",
]
WORDS = st.lists(st.sampled_from(TOKENS), max_size=25).map(" ".join)
TEXTS = st.lists(st.one_of(st.none(), st.text(max_size=40), WORDS), max_size=30)


@settings(max_examples=150, deadline=None)
@given(texts=TEXTS, max_chars=st.integers(0, 120), max_emoji=st.integers(0, 4))
def test_property_equals_plain_vader_on_capped_text(texts, max_chars, max_emoji):
    got = score_texts(texts, processes=1, max_chars=max_chars, max_emoji=max_emoji)
    assert got == [expected(t, max_chars, max_emoji) for t in texts]


@settings(max_examples=8, deadline=None)
@given(texts=TEXTS)
def test_property_parallel_equals_plain_vader(texts):
    with mock.patch.object(sentiment, "MIN_PARALLEL_CHARS", 0):
        got = score_texts(texts * 3, processes=2, batch_size=4)
    assert got == [expected(t) for t in texts * 3]


def test_benchmark_reports_identical_scores():
    texts = SAMPLE * 20 + ["x" * 3000, "   "]
    result = benchmark(texts, processes=1, repeat=2)
    assert result["mismatches"] == 0
    assert result["n_texts"] == len(texts)
    assert result["n_distinct"] == len(SAMPLE) + 1
    assert result["n_capped"] == 1
    assert result["n_compared"] == len(SAMPLE) * 20
    assert result["processes"] == 1
    assert result["speedup"] > 0 and result["per_second"] > 0 and result["baseline_per_second"] > 0
    report = benchmark_report(result)
    assert "utterances/s" in report and "identical" in report


def test_load_vader_tweets(tmp_path: Path):
    path = tmp_path / "tweets_GroundTruth.txt"
    path.write_bytes(b"1\t2.5\tSo lucky.\r\n2\t-1.25\tnot\tgood\r\n")
    assert load_vader_tweets(tmp_path) == (["So lucky.", "not\tgood"], [2.5, -1.25])
    path.write_text("1\t2.5\n")
    with pytest.raises(ValueError, match="tabs"):
        load_vader_tweets(path)


def test_pearson_r():
    assert pearson_r([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert pearson_r([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert pearson_r([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    with pytest.raises(ValueError):
        pearson_r([1.0], [1.0])
