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


# Session counts compared with the planted truth: a session is detected when its count is above zero.
SESSION_DETECTORS = (
    "rage_click_bursts",
    "dead_clicks",
    "error_clicks",
    "form_errors",
    "quick_backs",
    "slow_pages",
    "crashes",
    "help_views",
)
# Conversation detectors: planted truth column -> how the pipeline's output flags it.
CONVERSATION_DETECTORS = {
    "escalation_requested": pl.col("escalation_requests") > 0,
    "repetition": pl.col("repetitions") > 0,
    "pre_contact_friction": pl.col("pre_contact_friction_ours"),
}
# Outcomes that must equal the planted truth exactly.
EXACT_OUTCOMES = ("contained", "repeat_contact", "abandoned", "chain_id", "chain_position")


def detector_scores(db: Path, truth_dir: Path, key: bytes) -> dict[str, DetectorScore]:
    """Precision/recall inputs of every session and conversation detector against the planted truth."""
    sessions = session_comparison(db, truth_dir, key)
    contacts = conversation_comparison(db, truth_dir)
    scores = {
        name: score(
            sessions.with_columns((pl.col(f"{name}_ours") > 0).alias("d"), (pl.col(name) > 0).alias("p")), "d", "p"
        )
        for name in SESSION_DETECTORS
    }
    scores["had_friction"] = score(sessions, "had_friction_ours", "had_friction")
    scores.update(
        {
            name: score(contacts.with_columns(detected.alias("d")), "d", name)
            for name, detected in CONVERSATION_DETECTORS.items()
        }
    )
    return scores


# Friction cases (cx_signals.generate.friction_cases): the rule each tests, by the prefix of its name, as
# (what the pipeline found, what was planted) over the planted sessions joined to signals.session_friction.
CASE_RULES = {
    "rage": (pl.col("rage_click_bursts_ours") > 0, pl.col("rage_click_bursts") > 0),
    "dead": (pl.col("dead_clicks_ours") > 0, pl.col("dead_clicks") > 0),
    "session": (pl.col("had_friction_ours"), pl.col("had_friction")),
}


@dataclass(frozen=True)
class CaseScore:
    """One friction case: its rule, its sessions and how many of them should fire the rule, the sessions the
    pipeline got right, and the rule's precision and recall on them."""

    rule: str
    sessions: int
    should_fire: int
    correct: int
    score: DetectorScore


def case_scores(db: Path, truth_dir: Path, key: bytes) -> dict[str, CaseScore]:
    """Per friction case planted in `truth_dir`, the score of the rule it tests over its sessions in
    signals.session_friction (those of customers who refuse analytics consent are not there)."""
    sessions = session_comparison(db, truth_dir, key).filter(pl.col("friction_case").is_not_null())
    results: dict[str, CaseScore] = {}
    for case in sorted(sessions["friction_case"].unique()):
        rule = case.split("_", 1)[0]
        found, actual = CASE_RULES[rule]
        rows = sessions.filter(pl.col("friction_case") == case).with_columns(found.alias("d"), actual.alias("p"))
        correct = int((rows["d"] == rows["p"]).sum())
        results[case] = CaseScore(rule, rows.height, int(rows["p"].sum()), correct, score(rows, "d", "p"))
    return results


def rule_totals(cases: dict[str, CaseScore]) -> dict[str, CaseScore]:
    """Per rule (rage, dead, session), its friction cases summed: the rule's precision and recall over all of them."""
    totals: dict[str, CaseScore] = {}
    for case in cases.values():
        was = totals.get(case.rule, CaseScore(case.rule, 0, 0, 0, DetectorScore(0, 0, 0)))
        totals[case.rule] = CaseScore(
            case.rule,
            was.sessions + case.sessions,
            was.should_fire + case.should_fire,
            was.correct + case.correct,
            DetectorScore(
                was.score.true_positives + case.score.true_positives,
                was.score.false_positives + case.score.false_positives,
                was.score.false_negatives + case.score.false_negatives,
            ),
        )
    return totals


def outcome_mismatches(db: Path, truth_dir: Path) -> dict[str, int]:
    """Per exact outcome, how many consented contacts differ from the planted truth (missing rows count)."""
    contacts = conversation_comparison(db, truth_dir)
    return {
        name: int(contacts.select((~pl.col(name).eq_missing(pl.col(f"{name}_ours"))).sum()).item())
        for name in EXACT_OUTCOMES
    }
