"""Deterministic synthetic landing data with planted ground truth.

`generate_landing` writes transcripts, telemetry and behavioural events in the landing layout the
pipeline reads, and `_truth/` Parquet files recording what was planted (containment, repeat chains,
escalation requests, PII, session friction) so the pipeline can be checked against known answers.
The same arguments always give byte-identical files.

Modules: `params` (time units, rates, channels), `intents` (contact reasons), `phrases` (what is said),
`values` (random values, PII, ids), `sessions` (web/app sessions, friction scenarios, devices),
`conversations` (turns and events of each channel, CSAT, transcript records), `world` (the planner:
customers in shards, contacts, repeat chains, session placement), `writers` (the scratch spool and the
per-day writer) and `truth` (the `_truth/` schemas, README and rows).

Friction is planted so that the definitions in `config/defaults.yml` recover it exactly: ordinary
clicks are kept far apart in time, every ordinary click gets a DOM change or page view quickly, and
sessions with friction never straddle the edge of a pre- or post-contact window.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from cx_signals.config import PlaybookParameters, load_config
from cx_signals.generate.actions import TRUTH_README as ACTIONS_README
from cx_signals.generate.actions import plan_actions
from cx_signals.generate.industries import Industry
from cx_signals.generate.intents import INTENTS, Intent
from cx_signals.generate.params import CHANNELS, DAY, DEFAULT_START
from cx_signals.generate.phrases import ESCALATION_REQUESTS
from cx_signals.generate.releases import RELEASES_README
from cx_signals.generate.sessions import FRICTION_COUNTS
from cx_signals.generate.truth import TRUTH_README, TRUTH_SCHEMAS
from cx_signals.generate.values import iso
from cx_signals.generate.world import World
from cx_signals.generate.writers import Spool, write_day

__all__ = [
    "CHANNELS",
    "DEFAULT_START",
    "ESCALATION_REQUESTS",
    "FRICTION_COUNTS",
    "INTENTS",
    "SHARD_CUSTOMER_DAYS",
    "Intent",
    "generate_landing",
]

# Customers x days planned at once: what bounds generation's memory (0.85 GiB peak at 30 days x 50,000 customers).
SHARD_CUSTOMER_DAYS = 150_000


def generate_landing(
    out: Path,
    days: int = 14,
    customers: int = 2000,
    seed: int = 7,
    start: date = DEFAULT_START,
    repeat_window_days: int = 7,
    progress: Callable[[str], None] | None = None,
    playbook: PlaybookParameters | None = None,
    holdout: tuple[float, str] | None = None,
) -> dict[str, int]:
    """Write `days` UTC days of synthetic landing data for `customers` customers under `out`; `progress`, if
    given, is told what is being done (the customers being planned, then the day being written).

    Layout: transcripts/transcripts-YYYY-MM-DD.jsonl.gz, telemetry/telemetry-YYYY-MM-DD.jsonl,
    events/events-YYYY-MM-DD.parquet and _truth/ (see its README.md). `repeat_window_days` is R, the
    repeat-contact window the truth is computed with. With `playbook` (a playbook's parameters, docs/playbooks.md)
    the data is of its industry: its intents, PII kinds and disclosures, said or missed
    (cx_signals/generate/industries.py). Returns row counts per output.

    Customers are planned in shards of about SHARD_CUSTOMER_DAYS customer-days, spooled to scratch files
    under `out` by day, then written one day at a time, so memory does not grow with customers x days.

    Operators' actions on alerted journeys go to actions/actions-YYYY-MM-DD.jsonl, respecting the hold-out
    `holdout` (share, salt; default: config's interventions.holdout_share and holdout_salt), with a planted effect
    (`cx_signals.generate.actions`).
    """
    if holdout is None:
        defaults = load_config().interventions
        holdout = (defaults.holdout_share, defaults.holdout_salt)
    if days < 1 or customers < 1:
        raise ValueError("days and customers must be at least 1")
    out = Path(out)
    for folder in ("transcripts", "telemetry", "events", "actions", "_truth"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    industry = Industry.for_playbook(playbook) if playbook is not None and playbook.name else None
    world = World(days, customers, seed, start, repeat_window_days, industry)
    counts = {"customers": customers, **dict.fromkeys(
        ("conversations", "turns", "conversation_events", "telemetry", "events", "sessions", "pii"), 0)}  # fmt: skip
    shard = max(1, SHARD_CUSTOMER_DAYS // days)
    with tempfile.TemporaryDirectory(prefix=".spool-", dir=out) as scratch:
        spool = Spool(Path(scratch))
        for lo in range(0, customers, shard):
            if progress:
                progress(f"planning customers {lo + 1:,}-{min(customers, lo + shard):,} of {customers:,}")
            world.plan_shard(lo, min(customers, lo + shard))
            for key, value in world.spill(spool).items():
                counts[key] += value
        spool.close()
        numbers = world.conversation_numbers()
        plan = plan_actions(world.alertable, numbers, seed, world.t0, world.t1, holdout)
        truth = {
            name: pq.ParquetWriter(out / "_truth" / f"{name}.parquet", schema) for name, schema in TRUTH_SCHEMAS.items()
        }
        try:
            for day in range(days):
                name = iso(world.t0 + day * DAY)[:10]
                if progress:
                    progress(f"writing {name} (day {day + 1} of {days})")
                write_day(out, spool, day, name, numbers, truth, plan.edit)
                plan.write_day(out, day, name)
        finally:
            for writer in truth.values():
                writer.close()
    world.releases.write_truth(out / "_truth")
    plan.write_truth(out / "_truth")
    (out / "_truth" / "README.md").write_text(TRUTH_README + RELEASES_README + ACTIONS_README, encoding="utf-8")
    for key, value in plan.averted.items():
        counts[key] -= value
    counts["actions"] = sum(len(rows) for rows in plan.actions.values())
    return counts
