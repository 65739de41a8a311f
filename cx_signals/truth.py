"""Scoring the pipeline's output against the generator's planted truth (`<landing>/_truth/`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from cx_signals.privacy import pseudonym


@dataclass(frozen=True)
class DetectorScore:
    """Precision and recall of a boolean detector against truth, with the confusion counts."""

    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        """TP / (TP + FP); 1.0 when nothing was detected and nothing was planted."""
        detected = self.true_positives + self.false_positives
        return self.true_positives / detected if detected else float(self.false_negatives == 0)

    @property
    def recall(self) -> float:
        """TP / (TP + FN); 1.0 when nothing was planted."""
        planted = self.true_positives + self.false_negatives
        return self.true_positives / planted if planted else 1.0


def score(frame: pl.DataFrame, predicted: str, actual: str) -> DetectorScore:
    """Score boolean column `predicted` against `actual` over the rows of `frame`."""
    counts = frame.select(
        tp=(pl.col(predicted) & pl.col(actual)).sum(),
        fp=(pl.col(predicted) & ~pl.col(actual)).sum(),
        fn=(~pl.col(predicted) & pl.col(actual)).sum(),
    ).row(0)
    return DetectorScore(*(int(c) for c in counts))


def session_comparison(db: Path, truth_dir: Path, key: bytes) -> pl.DataFrame:
    """Planted sessions joined to `signals.session_friction` (by session id, else device pseudonym and start)."""
    truth = pl.read_parquet(truth_dir / "sessions.parquet").with_columns(
        pl.col("session_start").dt.replace_time_zone(None),
        pl.col("anonymous_id").map_elements(lambda v: pseudonym(v, key), return_dtype=pl.String).alias("anon_key"),
    )
    with duckdb.connect(str(db), read_only=True) as con:
        ours = con.execute("SELECT * FROM signals.session_friction").pl()
    with_ids = truth.filter(pl.col("session_id").is_not_null()).join(
        ours.filter(pl.col("session_id").is_not_null()), on="session_id", how="inner", suffix="_ours"
    )
    without_ids = truth.filter(pl.col("session_id").is_null()).join(
        ours.filter(pl.col("session_id").is_null()),
        left_on=["anon_key", "session_start"],
        right_on=["anonymous_key", "session_start"],
        how="inner",
        suffix="_ours",
    )
    return pl.concat([with_ids.drop("anonymous_key", strict=False), without_ids], how="diagonal_relaxed")


def conversation_comparison(db: Path, truth_dir: Path) -> pl.DataFrame:
    """Planted conversations (consented ones: the others must not be in metrics) joined to contact outcomes."""
    truth = pl.read_parquet(truth_dir / "conversations.parquet").filter(pl.col("consent_analytics"))
    with duckdb.connect(str(db), read_only=True) as con:
        ours = con.execute(
            """
            SELECT o.*, s.escalation_requests, s.repetitions
            FROM metrics.contact_outcomes AS o JOIN signals.conversation_signals AS s USING (conversation_id)
            """
        ).pl()
    return truth.join(ours, on="conversation_id", how="left", suffix="_ours")
