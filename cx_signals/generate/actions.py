"""Operators' actions on alerted journeys, respecting the hold-out, with a planted effect: acting averts repeats.

A journey is *alertable* when it has an unresolved contact preceded by pre-contact friction: the first such contact
raises a `friction_before_contact` alert in the pipeline (at its start), and, since every alert rule on journeys
needs an unresolved contact and earlier contacts of the journey are resolved or free of friction, it is the
journey's first friction alert. Once every shard is planned (so conversation ids, hence journey ids, are known),
each alertable journey that the hold-out (`cx_signals.interventions.held_out`, with the pipeline's salt and share)
does not hold out is acted on with probability ACTION_SHARE, `ACTION_DELAY_MS` after that contact's end. For an
acted journey, with probability EFFECT the contacts after it are averted: they are not written, and the truth rows
of the journey are those of the shortened chain. Held-out journeys are never acted on and keep their contacts, so
the acted arm's repeat rate is the held-out one's times (1 - EFFECT), and `_truth/interventions.parquet` holds the
repeat each acted journey would have had without the action (the known answer).

Every draw is a hash of the seed and the journey id, so no other output changes: averted conversations keep their
numbers (their ids are simply absent) and the pre-contact sessions planned for them stay (a customer who got as far
as the contact page). Actions are written to actions/actions-YYYY-MM-DD.jsonl by the day of their time.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cx_signals.generate.conversations import Conv
from cx_signals.generate.params import DAY, HOUR, MINUTE
from cx_signals.generate.truth import TIMESTAMP, conversation_truth
from cx_signals.generate.values import iso
from cx_signals.interventions import held_out

ACTION_SHARE = 0.7  # of the alertable journeys not held out, the share operators act on
EFFECT = 0.5  # of the acted journeys, the share whose later contacts the action averts
ACTION_DELAY_MS = (10 * MINUTE, 3 * HOUR)  # from the alerted contact's end to the action
ALERT_RULE = "friction_before_contact"
ACTIONS = ("callback", "outreach", "goodwill credit", "fix follow-up")
OPERATORS = 12
AVERTED_COUNTS = ("conversations", "turns", "conversation_events", "pii")  # generate_landing's counts it lowers
INTERVENTIONS_SCHEMA = pa.schema(
    [("journey_id", pa.string()), ("customer_id", pa.string()), ("consent_analytics", pa.bool_()),
     ("alerted_conversation_id", pa.string()), ("alert_at", TIMESTAMP), ("held_out", pa.bool_()),
     ("acted", pa.bool_()), ("action_at", TIMESTAMP), ("would_repeat", pa.bool_()), ("repeats_averted", pa.bool_()),
     ("repeated", pa.bool_())]
)  # fmt: skip
TRUTH_README = """
## interventions.parquet (one row per alertable journey; cx_signals/generate/actions.py)

- journey_id (its first conversation's id), customer_id, consent_analytics; alerted_conversation_id and alert_at:
  its first unresolved contact with pre-contact friction and that contact's start (its friction_before_contact
  alert).
- held_out: the hold-out (interventions.holdout_salt and holdout_share) holds the journey out; never acted on.
- acted, action_at: an action was written for it (actions/), 10 min to 3 h after the alerted contact's end.
- would_repeat: without an action, a contact of the journey starts after alert_at and within R days of it.
- repeats_averted: the action averted the contacts after the alerted one (they are not written).
- repeated: would_repeat and not repeats_averted - what the data shows.

Planted effect: acted journeys repeat at (1 - 0.5) times the rate of the others; the true effect of acting on the
acted journeys is mean(repeated) - mean(would_repeat) over them.
"""


def _uniform(seed: int, what: str, journey_id: str) -> float:
    """A number in [0, 1) drawn from the seed, the draw's name and the journey id alone."""
    digest = hashlib.sha256(f"{seed}:{what}:{journey_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass
class Alertable:
    """A journey (repeat chain) that raises a friction alert, as planned: conversations by serial."""

    first: int
    alerted: int
    alert_at: int  # ms
    alerted_end: int  # ms
    customer_id: str
    consent: bool
    later: list[tuple[int, int, int, int]]  # (serial, turns, events, pii) of the contacts after the alerted one
    would_repeat: bool
    shortened: list[tuple[int, dict[str, Any]]]  # (0-based day, truth row) of the chain cut after the alerted contact


def alertable(chain: list[Conv], customer_id: str, consent: bool, day_of: Any, repeat_ms: int) -> Alertable | None:
    """The chain as an alertable journey, or None when no unresolved contact of it follows pre-contact friction.
    Call once the chain's serials and pre_friction are set."""
    k = next((i for i, c in enumerate(chain) if c.disposition != "resolved" and c.pre_friction), None)
    if k is None:
        return None
    alerted = chain[k]
    rows = conversation_truth(chain[: k + 1], customer_id, consent)
    return Alertable(
        first=chain[0].serial,
        alerted=alerted.serial,
        alert_at=alerted.start,
        alerted_end=alerted.end,
        customer_id=customer_id,
        consent=consent,
        later=[(c.serial, len(c.turns), len(c.events), len(c.pii)) for c in chain[k + 1 :]],
        would_repeat=any(alerted.start < c.start <= alerted.start + repeat_ms for c in chain[k + 1 :]),
        shortened=[(day_of(c.start), row) for c, row in zip(chain[: k + 1], rows, strict=True)],
    )


@dataclass
class ActionPlan:
    """The actions to write and the conversations they avert, decided once conversation numbers are known."""

    dropped: set[int] = field(default_factory=set)
    replaced: set[int] = field(default_factory=set)
    truth_rows: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # by 0-based day
    actions: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # by 0-based day
    interventions: list[dict[str, Any]] = field(default_factory=list)
    averted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(AVERTED_COUNTS, 0))

    def edit(self, kind: str, day: int, table: pa.Table) -> pa.Table:
        """A day's spooled `kind` records without the averted conversations, with the shortened chains' truth."""
        if kind not in ("transcripts", "truth_conversations", "truth_pii"):
            return table
        gone = self.dropped | (self.replaced if kind == "truth_conversations" else set())
        if gone:
            serials = table["conversation_id"].to_numpy()
            table = table.filter(pa.array(~np.isin(serials, np.fromiter(gone, np.int64, len(gone)))))
        if kind == "truth_conversations" and self.truth_rows.get(day):
            table = pa.concat_tables([table, pa.Table.from_pylist(self.truth_rows[day], schema=table.schema)])
        return table

    def write_day(self, out: Path, day: int, name: str) -> None:
        """Write the actions of 0-based day `day` (`name` YYYY-MM-DD) to actions/actions-<name>.jsonl, if any."""
        rows = sorted(self.actions.get(day, []), key=lambda r: (r["ts"], r["action_id"]))
        if rows:
            text = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in rows)
            (out / "actions" / f"actions-{name}.jsonl").write_text(text, encoding="utf-8")

    def write_truth(self, folder: Path) -> None:
        """`_truth/interventions.parquet`, one row per alertable journey in journey id order."""
        rows = sorted(self.interventions, key=lambda r: r["journey_id"])
        pq.write_table(pa.Table.from_pylist(rows, schema=INTERVENTIONS_SCHEMA), folder / "interventions.parquet")


def plan_actions(
    journeys: list[Alertable], numbers: np.ndarray, seed: int, t0: int, t1: int, holdout: tuple[float, str]
) -> ActionPlan:
    """Decide, per alertable journey, hold-out, action and effect (see the module's docstring); `numbers` turns
    serials into conversation numbers, [t0, t1) (ms) is the generated period, `holdout` is (share, salt)."""
    share, salt = holdout
    plan = ActionPlan()
    for journey in journeys:
        journey_id = f"CV{numbers[journey.first]:07d}"
        alerted_id = f"CV{numbers[journey.alerted]:07d}"
        held = held_out(journey_id, salt, share)
        delay = ACTION_DELAY_MS[0] + _uniform(seed, "delay", journey_id) * (ACTION_DELAY_MS[1] - ACTION_DELAY_MS[0])
        action_at = journey.alerted_end + int(delay)
        acted = not held and _uniform(seed, "act", journey_id) < ACTION_SHARE and action_at < t1
        averted = acted and bool(journey.later) and _uniform(seed, "effect", journey_id) < EFFECT
        if acted:
            plan.actions.setdefault((action_at - t0) // DAY, []).append(
                _action(seed, journey, journey_id, alerted_id, action_at)
            )
        if averted:
            for serial, turns, events, pii in journey.later:
                plan.dropped.add(serial)
                plan.averted["conversations"] += 1
                plan.averted["turns"] += turns
                plan.averted["conversation_events"] += events
                plan.averted["pii"] += pii
            for day, row in journey.shortened:
                plan.replaced.add(int(row["conversation_id"]))
                plan.truth_rows.setdefault(day, []).append(row)
        plan.interventions.append(
            {
                "journey_id": journey_id,
                "customer_id": journey.customer_id,
                "consent_analytics": journey.consent,
                "alerted_conversation_id": alerted_id,
                "alert_at": journey.alert_at * 1_000,
                "held_out": held,
                "acted": acted,
                "action_at": action_at * 1_000 if acted else None,
                "would_repeat": journey.would_repeat,
                "repeats_averted": averted,
                "repeated": journey.would_repeat and not averted,
            }
        )
    return plan


def _action(seed: int, journey: Alertable, journey_id: str, alerted_id: str, action_at: int) -> dict[str, Any]:
    """The action record: it names the journey, the alerted conversation or the alert, in turn by the hash."""
    pick = _uniform(seed, "link", journey_id)
    alert_id = hashlib.md5(f"{ALERT_RULE}:{alerted_id}".encode(), usedforsecurity=False).hexdigest()
    target = (
        {"journey_id": journey_id}
        if pick < 1 / 3
        else {"conversation_id": alerted_id}
        if pick < 2 / 3
        else {"conversation_id": alerted_id, "alert_id": alert_id}
    )
    what = ACTIONS[int(_uniform(seed, "what", journey_id) * len(ACTIONS))]
    return {
        "action_id": f"ACT-{journey_id}",
        "ts": iso(action_at),
        **target,
        "customer_id": journey.customer_id,
        "action": what,
        "actor_id": f"ops-{int(_uniform(seed, 'who', journey_id) * OPERATORS) + 1:03d}",
        "note": f"{what} after the friction alert on {alerted_id}",
    }
