"""On VADER's own tweet ground truth, compound correlates with the human means as in the paper."""

from pathlib import Path

import pytest

from cx_signals.sentiment import load_vader_tweets, pearson_r, score_texts

TWEETS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "vader_tweets"

pytestmark = pytest.mark.real_data


def test_compound_correlates_with_human_means():
    if not (TWEETS / "tweets_GroundTruth.txt").is_file():
        pytest.skip(f"VADER tweet ground truth not found at {TWEETS}")
    texts, human_means = load_vader_tweets(TWEETS)
    assert len(texts) == 4200
    compound = [score.compound for score in score_texts(texts)]
    # The VADER paper reports r = 0.881; vaderSentiment 3.3.2 gives 0.872 on this file.
    assert pearson_r(compound, human_means) >= 0.87
