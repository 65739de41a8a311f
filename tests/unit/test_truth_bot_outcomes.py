"""`cx-signals evaluate`'s bot outcomes (cx_signals.truth.bot_outcome_scores) on hand-made truth and output."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from cx_signals.db import ensure_schema
from cx_signals.truth import BOT_OUTCOMES, DetectorScore, bot_outcome_scores
from tests.conftest import insert

# (conversation, consented, planted outcome, planted loops)
PLANTED = [
    ("c1", True, "escalated", 0),
    ("c2", True, "confirmed_resolution", 1),
    ("c3", True, "failed", 2),  # classed abandoned, one loop found
    ("c4", True, "abandoned", 0),  # not classed at all
    ("c5", False, "failed", 1),  # no consent: never in the output, not scored
    ("c6", True, None, 0),  # no bot turn
]
# (conversation, outcome, loops) in signals.bot_outcomes
FOUND = [("c1", "escalated", 0), ("c2", "confirmed_resolution", 1), ("c3", "abandoned", 1), ("c7", "failed", 0)]


def test_bot_outcome_scores_count_misses_false_alarms_and_loops(tmp_path: Path) -> None:
    truth = tmp_path / "_truth"
    truth.mkdir()
    pl.DataFrame(
        PLANTED,
        schema={"conversation_id": pl.String, "consent_analytics": pl.Boolean, "bot_outcome": pl.String,
                "bot_loops": pl.Int32},
        orient="row",
    ).write_parquet(truth / "conversations.parquet")  # fmt: skip
    db = tmp_path / "cx.duckdb"
    with duckdb.connect(str(db)) as con:
        ensure_schema(con)
        insert(
            con,
            "signals.bot_outcomes",
            [
                {"partition_date": date(2026, 10, 1), "conversation_id": cid, "channel": "chat", "outcome": outcome,
                 "bot_loops": loops}
                for cid, outcome, loops in FOUND
            ],
        )  # fmt: skip
    result = bot_outcome_scores(db, truth)
    assert set(result.outcomes) == set(BOT_OUTCOMES)
    assert result.outcomes["escalated"] == DetectorScore(1, 0, 0)
    assert result.outcomes["confirmed_resolution"] == DetectorScore(1, 0, 0)
    # c3 planted failed, classed abandoned; c7 classed failed, never planted; c4 planted abandoned, not classed
    assert result.outcomes["failed"] == DetectorScore(0, 1, 1)
    assert result.outcomes["abandoned"] == DetectorScore(0, 1, 1)
    assert result.outcomes["abandoned"].precision == 0.0 and result.outcomes["abandoned"].recall == 0.0
    assert result.outcomes["assumed_resolution"] == DetectorScore(0, 0, 0)
    assert (result.planted, result.classed, result.same_outcome) == (4, 4, 2)
    # c1 and c2 have the planted loop count; c3 found 1 of 2; c4 none found
    assert result.same_loops == 2
    assert (result.planted_loops, result.found_loops) == (3, 2)
