"""Generated actions (cx_signals.generate.actions): they respect the hold-out, name journeys that exist, and the
conversations they avert are gone from the transcripts and the truth, consistently."""

import gzip
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from cx_signals.config import load_config
from cx_signals.contracts import TimeBounds, input_contracts, validate_record
from cx_signals.generate import generate_landing
from cx_signals.interventions import held_out

HOLDOUT = (0.2, "test-salt")


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("actions") / "landing"
    generate_landing(out, days=7, customers=600, seed=5, start=date(2026, 10, 1), holdout=HOLDOUT)
    return out


def read_actions(landing: Path) -> list[dict]:
    paths = sorted((landing / "actions").iterdir())
    return [json.loads(line) for path in paths for line in path.read_text().splitlines()]


def read_transcripts(landing: Path) -> dict[str, dict]:
    records = {}
    for path in sorted((landing / "transcripts").iterdir()):
        with gzip.open(path, "rt") as handle:
            for line in handle:
                record = json.loads(line)
                records[record["conversation_id"]] = record
    return records


def test_actions_follow_their_contract_and_never_touch_a_held_out_journey(landing):
    actions = read_actions(landing)
    truth = pl.read_parquet(landing / "_truth" / "interventions.parquet")
    assert len(actions) == truth["acted"].sum() > 20
    config = load_config()
    bounds = TimeBounds.from_config(config, truth["alert_at"].max().replace(tzinfo=None))
    limits = {"max_text_chars": config.ingest.max_text_chars, "placeholder_ids": config.ingest.placeholder_ids}
    for action in actions:
        assert validate_record(input_contracts()["actions"], action, bounds, **limits)[1] == []
    acted = truth.filter(pl.col("acted"))
    assert not acted["held_out"].any()
    assert truth["held_out"].to_list() == [held_out(j, HOLDOUT[1], HOLDOUT[0]) for j in truth["journey_id"]]
    assert 0 < truth["held_out"].sum() < truth.height
    by_journey = {a["action_id"].removeprefix("ACT-"): a for a in actions}
    assert set(by_journey) == set(acted["journey_id"])
    for row in acted.iter_rows(named=True):
        action = by_journey[row["journey_id"]]
        named = action.get("journey_id") or action["conversation_id"]
        assert named in (row["journey_id"], row["alerted_conversation_id"])
        assert action["ts"] > row["alert_at"].isoformat()[:19]  # after the alert (the contact's start)


def test_averted_contacts_are_gone_and_the_truth_follows_the_shortened_journey(landing):
    transcripts = read_transcripts(landing)
    truth = pl.read_parquet(landing / "_truth" / "conversations.parquet")
    interventions = pl.read_parquet(landing / "_truth" / "interventions.parquet")
    assert set(truth["conversation_id"]) == set(transcripts)
    averted = interventions.filter(pl.col("repeats_averted"))
    assert averted.height > 0 and averted["acted"].all() and averted["would_repeat"].any()
    rows = {r["conversation_id"]: r for r in truth.iter_rows(named=True)}
    for journey in averted.iter_rows(named=True):
        alerted = rows[journey["alerted_conversation_id"]]
        members = truth.filter(pl.col("chain_id") == journey["journey_id"])
        # the alerted contact is the journey's last now, and nothing follows it
        assert members["chain_position"].max() == alerted["chain_position"]
        assert not alerted["repeat_contact"] and not alerted["chain_resolved"]
    # without the action, the acted journeys would have repeated like the held-out ones; with it, half as often
    acted = interventions.filter(pl.col("acted"))
    assert acted["repeated"].mean() < acted["would_repeat"].mean()
    assert (acted["repeated"] == (acted["would_repeat"] & ~acted["repeats_averted"])).all()
