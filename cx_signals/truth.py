"""Scoring the pipeline's output against the generator's planted truth (`<landing>/_truth/`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from cx_signals.config import FrictionParameters
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


# Friction cases (cx_signals.generate.friction_cases): the rule each tests, by the prefix of its name, as what the
# pipeline found, what the rule as specified finds (the planted counts) and what happened in the scenario.
CASE_RULES = {
    "rage": (pl.col("rage_click_bursts_ours") > 0, pl.col("rage_click_bursts") > 0, pl.col("case_frustrated")),
    "dead": (pl.col("dead_clicks_ours") > 0, pl.col("dead_clicks") > 0, ~pl.col("case_page_answered")),
    "session": (pl.col("had_friction_ours"), pl.col("had_friction"), pl.col("case_frustrated")),
}
# What the naive rules (timing and position only, before PostHog's and Datadog's fixes) find, per case rule.
NAIVE_RULES = {
    "rage": pl.col("naive_rage_click_bursts") > 0,
    "dead": pl.col("naive_dead_clicks") > 0,
    "session": pl.col("naive_had_friction"),
}
NAIVE_ANSWERS = ("page_view", "page_leave", "dom_change", "scroll", "input")


def naive_friction(events: pl.DataFrame, friction: FrictionParameters) -> tuple[int, int]:
    """Rage bursts and dead clicks of one session's events (ts, event_type, x, y; in time order) by the naive rules:
    any run of >= rage_click_min_clicks clicks, each < rage_click_max_gap_ms and < rage_click_max_distance_px
    (|dx| + |dy|) from the previous, whatever was clicked; any click outside such a run with no page view, page
    leave, DOM change, scroll or input within dead_click_window_ms, whatever was clicked."""
    clicks = events.filter(pl.col("event_type") == "click").select("ts", "x", "y").rows()
    runs: list[list[tuple[datetime, int | None, int | None]]] = []
    for click in clicks:
        prev = runs[-1][-1] if runs else None
        close = prev is not None and (click[0] - prev[0]) < timedelta(milliseconds=friction.rage_click_max_gap_ms)
        near = (
            prev is not None
            and None not in (click[1], click[2], prev[1], prev[2])
            and abs(click[1] - prev[1]) + abs(click[2] - prev[2]) < friction.rage_click_max_distance_px
        )
        if close and near:
            runs[-1].append(click)
        else:
            runs.append([click])
    bursts = [run for run in runs if len(run) >= friction.rage_click_min_clicks]
    in_burst = {id(click) for run in bursts for click in run}
    answers = events.filter(pl.col("event_type").is_in(NAIVE_ANSWERS))["ts"].to_list()
    window = timedelta(milliseconds=friction.dead_click_window_ms)
    dead = sum(
        1
        for click in clicks
        if id(click) not in in_burst and not any(click[0] < answer <= click[0] + window for answer in answers)
    )
    return len(bursts), dead


def case_comparison(db: Path, truth_dir: Path, key: bytes, friction: FrictionParameters) -> pl.DataFrame:
    """The friction-case sessions joined to signals.session_friction (those of customers who refuse analytics
    consent are not there), with what the naive rules find in their raw.events: naive_rage_click_bursts,
    naive_dead_clicks and naive_had_friction (the session's friction score with those two parts replaced)."""
    sessions = session_comparison(db, truth_dir, key).filter(pl.col("friction_case").is_not_null())
    bounds = sessions.select("friction_case", "anon_key", "session_start", "session_end").with_row_index("case_row")
    with duckdb.connect(str(db), read_only=True) as con:
        con.register("case_bounds", bounds.to_arrow())
        events = con.execute(
            """
            SELECT b.case_row, e.ts, e.event_type, e.x, e.y
            FROM case_bounds AS b JOIN raw.events AS e
              ON e.anonymous_key = b.anon_key AND e.ts BETWEEN b.session_start AND b.session_end
            ORDER BY b.case_row, e.ts, e.event_type
            """
        ).pl()
    naive = {row: naive_friction(group, friction) for (row,), group in events.group_by("case_row")}
    weights = friction.score_weights
    rage, dead = (pl.Series([naive.get(row, (0, 0))[i] for row in range(bounds.height)]) for i in (0, 1))
    return sessions.with_columns(naive_rage_click_bursts=rage, naive_dead_clicks=dead).with_columns(
        naive_had_friction=pl.col("friction_score")
        + weights["rage_clicks"] * (pl.col("naive_rage_click_bursts") - pl.col("rage_click_bursts_ours"))
        + weights["dead_clicks"] * (pl.col("naive_dead_clicks") - pl.col("dead_clicks_ours"))
        >= friction.session_friction_threshold
    )


@dataclass(frozen=True)
class CaseScore:
    """One friction case (or all of a rule's cases): its rule, its sessions, how many of them are positive in the
    scenario (a frustrated user; a click the page ignored), how many the pipeline scored as the rule specifies, and
    the precision and recall against the scenario of the pipeline's rule and of the naive rule."""

    rule: str
    sessions: int
    positive: int
    as_specified: int
    score: DetectorScore
    naive: DetectorScore


def case_scores(db: Path, truth_dir: Path, key: bytes, friction: FrictionParameters) -> dict[str, CaseScore]:
    """Per friction case planted in `truth_dir`, the rule it tests scored over its sessions against the scenario's
    truth, for the pipeline (signals.session_friction) and for the naive rule."""
    sessions = case_comparison(db, truth_dir, key, friction)
    results: dict[str, CaseScore] = {}
    for case in sorted(sessions["friction_case"].unique()):
        rule = case.split("_", 1)[0]
        found, specified, actual = CASE_RULES[rule]
        rows = sessions.filter(pl.col("friction_case") == case).with_columns(
            found.alias("d"), specified.alias("s"), actual.alias("p"), NAIVE_RULES[rule].alias("n")
        )
        results[case] = CaseScore(
            rule,
            rows.height,
            int(rows["p"].sum()),
            int((rows["d"] == rows["s"]).sum()),
            score(rows, "d", "p"),
            score(rows, "n", "p"),
        )
    return results


def _add(a: DetectorScore, b: DetectorScore) -> DetectorScore:
    return DetectorScore(
        a.true_positives + b.true_positives,
        a.false_positives + b.false_positives,
        a.false_negatives + b.false_negatives,
    )


def rule_totals(cases: dict[str, CaseScore]) -> dict[str, CaseScore]:
    """Per rule (rage, dead, session), its friction cases summed: the rule's precision and recall over all of them."""
    totals: dict[str, CaseScore] = {}
    for case in cases.values():
        empty = DetectorScore(0, 0, 0)
        was = totals.get(case.rule, CaseScore(case.rule, 0, 0, 0, empty, empty))
        totals[case.rule] = CaseScore(
            case.rule,
            was.sessions + case.sessions,
            was.positive + case.positive,
            was.as_specified + case.as_specified,
            _add(was.score, case.score),
            _add(was.naive, case.naive),
        )
    return totals


def outcome_mismatches(db: Path, truth_dir: Path) -> dict[str, int]:
    """Per exact outcome, how many consented contacts differ from the planted truth (missing rows count)."""
    contacts = conversation_comparison(db, truth_dir)
    return {
        name: int(contacts.select((~pl.col(name).eq_missing(pl.col(f"{name}_ours"))).sum()).item())
        for name in EXACT_OUTCOMES
    }


# The bot outcomes signals.bot_outcomes classes conversations into, as the generator plants them (`bot_outcome`).
BOT_OUTCOMES = ("confirmed_resolution", "assumed_resolution", "escalated", "abandoned", "failed")


@dataclass(frozen=True)
class BotOutcomeScore:
    """signals.bot_outcomes against the planted bot outcomes and loops: per outcome, precision and recall (a
    conversation classed but not planted is a false alarm of its class, one planted but not classed a miss of its
    class); how many planted conversations got the planted outcome and the planted loop count; and the loops
    planted and found in all."""

    outcomes: dict[str, DetectorScore]
    planted: int
    classed: int
    same_outcome: int
    same_loops: int
    planted_loops: int
    found_loops: int


def bot_outcome_scores(db: Path, truth_dir: Path) -> BotOutcomeScore:
    """Score signals.bot_outcomes against the consented planted conversations with a bot outcome (`_truth/`
    bot_outcome, bot_loops), matched by conversation id."""
    truth = (
        pl.read_parquet(truth_dir / "conversations.parquet")
        .filter(pl.col("consent_analytics") & pl.col("bot_outcome").is_not_null())
        .select("conversation_id", planted="bot_outcome", planted_loops=pl.col("bot_loops").cast(pl.Int64))
    )
    with duckdb.connect(str(db), read_only=True) as con:
        ours = con.execute(
            "SELECT conversation_id, outcome AS found, CAST(bot_loops AS BIGINT) AS found_loops "
            "FROM signals.bot_outcomes"
        ).pl()
    both = truth.join(ours, on="conversation_id", how="full", coalesce=True)
    outcomes = {
        outcome: score(
            both.with_columns(
                d=pl.col("found").eq_missing(pl.lit(outcome)), p=pl.col("planted").eq_missing(pl.lit(outcome))
            ),
            "d",
            "p",
        )
        for outcome in BOT_OUTCOMES
    }
    planted = both.filter(pl.col("planted").is_not_null())
    return BotOutcomeScore(
        outcomes=outcomes,
        planted=planted.height,
        classed=both.filter(pl.col("found").is_not_null()).height,
        same_outcome=int(planted.select(pl.col("found").eq_missing(pl.col("planted")).sum()).item()),
        same_loops=int(planted.select(pl.col("found_loops").eq_missing(pl.col("planted_loops")).sum()).item()),
        planted_loops=int(truth["planted_loops"].sum()),
        found_loops=int(ours["found_loops"].sum()),
    )
