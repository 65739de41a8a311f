"""Synthetic landing data: determinism, contract shape, and planted truth recomputed from the files."""

from __future__ import annotations

import gzip
import json
import re
import tracemalloc
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from itertools import combinations, pairwise
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
import yaml

import cx_signals.generate as generate
from cx_signals.config import load_config
from cx_signals.generate import (
    CHANNELS,
    ESCALATION_REQUESTS,
    FRICTION_COUNTS,
    INTENTS,
    generate_landing,
)
from cx_signals.generate.friction_cases import CASES
from cx_signals.truth import naive_friction
from tests.friction_expectations import NAIVE_FALSE_ALARMS, NAIVE_MISSES, RULE_FALSE_ALARMS, RULE_MISSES

ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((ROOT / "config" / "defaults.yml").read_text())
FRICTION = CONFIG["friction"]
FRICTION_PARAMETERS = load_config().friction
ESCALATION = [re.compile(p, re.IGNORECASE) for p in CONFIG["conversation"]["escalation_patterns"]]
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")
DAYS, CUSTOMERS, R_DAYS = 7, 400, 7
START = date(2026, 10, 1)


def contract(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "data_contracts" / "inputs" / f"{name}.yml").read_text())


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module", params=[None, DAYS * 40], ids=["one shard", "shards of 40 customers"])
def landing(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The landing of one shard, and of ten shards: every test below holds whatever the sharding."""
    out = tmp_path_factory.mktemp("landing")
    with pytest.MonkeyPatch.context() as patch:
        if request.param:
            patch.setattr(generate, "SHARD_CUSTOMER_DAYS", request.param)
        generate_landing(out, days=DAYS, customers=CUSTOMERS, seed=11, start=START, repeat_window_days=R_DAYS)
    return out


@pytest.fixture(scope="module")
def conversations(landing: Path) -> list[dict[str, Any]]:
    records = []
    for path in sorted((landing / "transcripts").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            records.extend(json.loads(line) for line in fh)
    return records


@pytest.fixture(scope="module")
def telemetry(landing: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted((landing / "telemetry").glob("*.jsonl")):
        rows.extend(json.loads(line) for line in path.read_text().splitlines())
    return rows


@pytest.fixture(scope="module")
def events(landing: Path) -> pl.DataFrame:
    return pl.concat([pl.read_parquet(p) for p in sorted((landing / "events").glob("*.parquet"))])


@pytest.fixture(scope="module")
def truth(landing: Path) -> dict[str, pl.DataFrame]:
    return {
        name: pl.read_parquet(landing / "_truth" / f"{name}.parquet") for name in ("conversations", "sessions", "pii")
    }


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    counts_a = generate_landing(a, days=3, customers=60, seed=3)
    counts_b = generate_landing(b, days=3, customers=60, seed=3)
    generate_landing(c, days=3, customers=60, seed=4)
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files_a == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    actions = len(list((a / "actions").iterdir()))
    assert len(files_a) == 3 * 3 + actions + 6  # a file per day and source, actions on days with any, 6 truth files
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    assert counts_a == counts_b
    assert (a / "events" / "events-2026-10-01.parquet").read_bytes() != (
        c / "events" / "events-2026-10-01.parquet"
    ).read_bytes()


def test_one_file_per_day_and_source(landing: Path) -> None:
    days = [(START + timedelta(days=d)).isoformat() for d in range(DAYS)]
    assert sorted(p.name for p in (landing / "transcripts").iterdir()) == [f"transcripts-{d}.jsonl.gz" for d in days]
    assert sorted(p.name for p in (landing / "telemetry").iterdir()) == [f"telemetry-{d}.jsonl" for d in days]
    assert sorted(p.name for p in (landing / "events").iterdir()) == [f"events-{d}.parquet" for d in days]
    assert (landing / "_truth" / "README.md").read_text().startswith("# Planted ground truth")


def test_transcripts_follow_the_contract(conversations: list[dict[str, Any]]) -> None:
    spec = contract("transcripts")
    fields = [f["name"] for f in spec["fields"]]
    turn_fields = [f["name"] for f in spec["items"]["turn"]]
    event_fields = [f["name"] for f in spec["items"]["conversation_event"]]
    allowed = {f["name"]: set(f["allowed"]) for f in spec["fields"] if "allowed" in f}
    speakers = set(spec["items"]["turn"][1]["allowed"])
    event_types = set(spec["items"]["conversation_event"][0]["allowed"])
    ids = [c["conversation_id"] for c in conversations]
    assert len(ids) == len(set(ids))
    for conv in conversations:
        assert list(conv) == fields
        assert conv["channel"] in allowed["channel"]
        assert conv["disposition"] in allowed["disposition"] | {None}
        assert conv["csat"] is None or 1 <= conv["csat"] <= 5
        assert ISO_Z.match(conv["started_at"]) and ISO_Z.match(conv["ended_at"])
        assert ts(conv["ended_at"]) >= ts(conv["started_at"])
        assert conv["started_at"] == conv["turns"][0]["ts"]
        turn_ids = [t["turn_id"] for t in conv["turns"]]
        assert len(turn_ids) == len(set(turn_ids))
        starts = [ts(t["ts"]) for t in conv["turns"]]
        assert starts == sorted(starts)
        for turn in conv["turns"]:
            assert list(turn) == turn_fields
            assert turn["speaker"] in speakers
            assert (turn["agent_id"] is not None) == (turn["speaker"] == "agent")
            assert (turn["end_ts"] is not None) == (conv["channel"] == "voice")
            if turn["end_ts"]:
                assert ts(turn["end_ts"]) >= ts(turn["ts"])
            assert ts(turn["ts"]) <= ts(conv["ended_at"])
        for event in conv["events"]:
            assert list(event) == event_fields
            assert event["event_type"] in event_types


def test_telemetry_and_events_follow_their_contracts(
    telemetry: list[dict[str, Any]], events: pl.DataFrame, landing: Path
) -> None:
    spec = contract("telemetry")
    allowed = {f["name"]: set(f["allowed"]) for f in spec["fields"] if "allowed" in f}
    for row in telemetry:
        assert list(row) == [f["name"] for f in spec["fields"]]
        assert ISO_Z.match(row["ts"])
        assert row["app"] in allowed["app"] and row["kind"] in allowed["kind"]
        assert row["customer_id"] or row["anonymous_id"]
    event_spec = contract("events")
    schema = pq.read_schema(next((landing / "events").glob("*.parquet")))
    assert schema.names == [f["name"] for f in event_spec["fields"]]
    assert str(schema.field("ts").type) == "timestamp[us, tz=UTC]"
    assert str(schema.field("x").type) == "int32"
    assert events["event_id"].n_unique() == events.height
    assert set(events["event_type"].unique()) <= set(event_spec["fields"][5]["allowed"])
    clicks = events.filter(pl.col("event_type") == "click")
    assert clicks["x"].null_count() == 0 and clicks["y"].null_count() == 0
    assert events.filter(pl.col("event_type") != "click")["x"].null_count() == events.height - clicks.height
    for props in events["properties"].drop_nulls():
        assert isinstance(json.loads(props), dict)


def test_every_channel_and_intent_is_present(conversations: list[dict[str, Any]]) -> None:
    assert {c["channel"] for c in conversations} == set(CHANNELS)
    assert {c["intent"] for c in conversations} == {i.name for i in INTENTS}
    voice = [c for c in conversations if c["channel"] == "voice"]
    assert any(e["event_type"] == "hold_start" for c in voice for e in c["events"])
    assert any(e["event_type"] == "transfer" for c in conversations for e in c["events"])


def test_csat_share_and_direction(truth: dict[str, pl.DataFrame]) -> None:
    conv = truth["conversations"]
    share = conv["csat"].is_not_null().mean()
    # ~15% surveyed: within four binomial standard deviations at this sample size.
    assert abs(share - 0.15) <= 4 * (0.15 * 0.85 / conv.height) ** 0.5
    surveyed = conv.filter(pl.col("csat").is_not_null())
    good = surveyed.filter(pl.col("contained") & pl.col("chain_resolved") & ~pl.col("repeat_contact"))["csat"]
    bad = surveyed.filter(pl.col("repeat_contact") | pl.col("escalation_requested"))["csat"]
    assert good.mean() > bad.mean() + 0.8


def test_consent_is_constant_per_customer_and_sometimes_false(conversations: list[dict[str, Any]]) -> None:
    by_customer = defaultdict(set)
    for conv in conversations:
        by_customer[conv["customer_id"]].add(conv["consent_analytics"])
    assert all(len(flags) == 1 for flags in by_customer.values())
    assert any(flags == {False} for flags in by_customer.values())


def test_outcome_truth_matches_turns_and_events(
    conversations: list[dict[str, Any]], truth: dict[str, pl.DataFrame]
) -> None:
    rows = {r["conversation_id"]: r for r in truth["conversations"].iter_rows(named=True)}
    assert set(rows) == {c["conversation_id"] for c in conversations}
    for conv in conversations:
        row = rows[conv["conversation_id"]]
        kinds = [e["event_type"] for e in conv["events"]]
        agent_turn = any(t["speaker"] == "agent" for t in conv["turns"])
        assert row["contained"] == (not agent_turn and "handoff_to_agent" not in kinds)
        assert row["escalated"] == (agent_turn or "handoff_to_agent" in kinds)
        assert row["abandoned"] == (conv["disposition"] == "abandoned")
        assert row["transfers"] == kinds.count("transfer")
        assert row["handoffs"] == kinds.count("handoff_to_agent")
        starts = [ts(e["ts"]) for e in conv["events"] if e["event_type"] == "hold_start"]
        ends = [ts(e["ts"]) for e in conv["events"] if e["event_type"] == "hold_end"]
        assert row["hold_seconds"] == pytest.approx(
            sum((b - a).total_seconds() for a, b in zip(starts, ends, strict=True))
        )
        customer_text = [t["text"] for t in conv["turns"] if t["speaker"] == "customer"]
        assert row["escalation_requested"] == any(p.search(text) for p in ESCALATION for text in customer_text)
        assert row["csat"] == conv["csat"] and row["consent_analytics"] == conv["consent_analytics"]
    contained = [r for r in rows.values() if r["contained"]]
    assert contained and any(r["escalated"] for r in rows.values())
    assert {r["channel"] for r in contained} >= {"chat", "messaging"}
    assert any(r["abandoned"] for r in rows.values())


def test_escalation_phrases_match_the_configured_patterns() -> None:
    for text in ESCALATION_REQUESTS:
        assert any(p.search(text) for p in ESCALATION), text


def test_repeat_chains_recomputed_from_transcripts(
    conversations: list[dict[str, Any]], truth: dict[str, pl.DataFrame]
) -> None:
    window = timedelta(days=R_DAYS)
    rows = {r["conversation_id"]: r for r in truth["conversations"].iter_rows(named=True)}
    groups = defaultdict(list)
    for conv in conversations:
        groups[conv["customer_id"], conv["intent"]].append(conv)
    chains = 0
    for group in groups.values():
        group.sort(key=lambda c: c["started_at"])
        chain: list[dict[str, Any]] = []
        for i, conv in enumerate(group):
            later = [o for o in group if ts(conv["ended_at"]) < ts(o["started_at"]) <= ts(conv["ended_at"]) + window]
            assert rows[conv["conversation_id"]]["repeat_contact"] == bool(later)
            if chain and ts(conv["started_at"]) <= ts(chain[-1]["ended_at"]) + window:
                chain.append(conv)
            else:
                chain = [conv]
                chains += 1
            row = rows[conv["conversation_id"]]
            assert row["chain_id"] == chain[0]["conversation_id"]
            assert row["chain_position"] == len(chain)
            if i + 1 == len(group) or ts(group[i + 1]["started_at"]) > ts(conv["ended_at"]) + window:
                resolved = conv["disposition"] == "resolved"
                for member in chain:
                    r = rows[member["conversation_id"]]
                    assert r["chain_resolved"] == resolved
                    assert r["resolving_conversation_id"] == (conv["conversation_id"] if resolved else None)
                    if resolved:
                        expected = (ts(conv["ended_at"]) - ts(chain[0]["started_at"])).total_seconds()
                        assert r["time_to_resolve_seconds"] == pytest.approx(expected)
    positions = truth["conversations"]["chain_position"]
    assert positions.max() >= 3 and chains < len(conversations)
    repeats = truth["conversations"].filter(pl.col("chain_position") > 1)
    first_channel = dict(truth["conversations"].select("conversation_id", "channel").iter_rows())
    assert any(first_channel[c] != ch for c, ch in repeats.select("chain_id", "channel").iter_rows())
    assert not truth["conversations"].filter(pl.col("chain_position") == 1)["chain_resolved"].all()


def test_planted_pii_is_in_the_customer_turns(
    conversations: list[dict[str, Any]], truth: dict[str, pl.DataFrame]
) -> None:
    pii = truth["pii"]
    assert set(pii["pii_type"].unique()) == {"email", "phone", "card", "iban"}
    turns = {(c["conversation_id"], t["turn_id"]): t for c in conversations for t in c["turns"]}
    for row in pii.iter_rows(named=True):
        turn = turns[row["conversation_id"], row["turn_id"]]
        assert turn["speaker"] == "customer" and row["value"] in turn["text"]
        digits = re.sub(r"\D", "", row["value"])
        if row["pii_type"] == "card":
            total = sum(int(d) if i % 2 == 0 else sum(divmod(int(d) * 2, 10)) for i, d in enumerate(reversed(digits)))
            assert len(digits) == 16 and total % 10 == 0
        if row["pii_type"] == "iban":
            iban = row["value"].replace(" ", "")
            assert int("".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])) % 97 == 1
    texts = " ".join(t["text"] for t in turns.values())
    assert re.search(r"order \d{4}-\d{4}", texts) and re.search(r"[$£€]\d+\.\d\d", texts)
    assert not any(re.search(r"\d{4}-\d{4}", v) and len(re.sub(r"\D", "", v)) == 8 for v in pii["value"])


def test_repetition_truth_matches_token_overlap(
    conversations: list[dict[str, Any]], truth: dict[str, pl.DataFrame]
) -> None:
    rows = {r["conversation_id"]: r for r in truth["conversations"].iter_rows(named=True)}
    threshold = CONFIG["conversation"]["repetition_min_similarity"]
    for conv in conversations:
        tokens = [set(re.findall(r"\w+", t["text"].lower())) for t in conv["turns"] if t["speaker"] == "customer"]
        best = max((len(a & b) / len(a | b) for a, b in combinations(tokens, 2)), default=0.0)
        assert rows[conv["conversation_id"]]["repetition"] == (best >= threshold), conv["conversation_id"]
    assert truth["conversations"]["repetition"].sum() > 0


def test_voice_has_silences_interruptions_and_email_long_gaps(conversations: list[dict[str, Any]]) -> None:
    silences = interruptions = 0
    for conv in (c for c in conversations if c["channel"] == "voice"):
        turns = conv["turns"]
        for prev, turn in pairwise(turns):
            gap = (ts(turn["ts"]) - ts(prev["end_ts"])).total_seconds()
            silences += gap > CONFIG["conversation"]["silence_gap_seconds"]
            interruptions += gap < 0 and turn["speaker"] != prev["speaker"]
    assert silences > 0 and interruptions > 0
    email_gaps = [
        ts(b["ts"]) - ts(a["ts"])
        for c in conversations
        if c["channel"] == "email"
        for a, b in zip(c["turns"], c["turns"][1:], strict=False)
    ]
    assert max(email_gaps) > timedelta(hours=2)


# ------------------------------------------------------------------ session friction, recomputed


def sessionise(events: pl.DataFrame) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Events per session: by session_id, else per anonymous_id on 30 minutes of inactivity."""
    gap = timedelta(minutes=CONFIG["sessions"]["inactivity_minutes"])
    sessions: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    last: dict[str, tuple[datetime, str]] = {}
    for row in events.sort("ts", maintain_order=True).iter_rows(named=True):
        if row["session_id"]:
            sessions["sid", row["session_id"]].append(row)
            continue
        anon = row["anonymous_id"]
        if anon not in last or row["ts"] - last[anon][0] >= gap:
            last[anon] = (row["ts"], f"{anon}@{row['ts'].isoformat()}")
        last[anon] = (row["ts"], last[anon][1])
        sessions["anon", last[anon][1]].append(row)
    return sessions


def _lower(value: str | None) -> str | None:
    return value.lower() if value is not None else None


def rage_exempt(click: dict[str, Any]) -> bool:
    """A click on a text input, stepper or next/previous control (friction.text_input_types, field_roles,
    rage_click_ignore_content)."""
    tag, kind, role = _lower(click["element_tag"]), _lower(click["element_type"]), _lower(click["element_role"])
    words = set((click["element_text"] or "").lower().split())
    return (
        tag == "textarea"
        or (tag == "input" and (kind or "text") in FRICTION["text_input_types"])
        or role in FRICTION["field_roles"]
        or bool(words & {w.lower() for w in FRICTION["rage_click_ignore_content"]})
    )


def never_dead(click: dict[str, Any]) -> bool:
    """A click on a link or form field."""
    tag, kind, role = _lower(click["element_tag"]), _lower(click["element_type"]), _lower(click["element_role"])
    return (
        tag in {"a", "textarea", "select"}
        or role == "link"
        or (tag == "input" and (kind or "text") not in FRICTION["button_input_types"])
        or role in FRICTION["field_roles"]
    )


def click_runs(clicks: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Runs of clicks each < rage_click_max_gap_ms and < rage_click_max_distance_px from the previous."""
    max_gap = timedelta(milliseconds=FRICTION["rage_click_max_gap_ms"])
    runs: list[list[dict[str, Any]]] = []
    for click in clicks:
        prev = runs[-1][-1] if runs else None
        close = prev is not None and click["ts"] - prev["ts"] < max_gap
        near = (
            prev is not None
            and abs(click["x"] - prev["x"]) + abs(click["y"] - prev["y"]) < FRICTION["rage_click_max_distance_px"]
        )
        if close and near:
            runs[-1].append(click)
        else:
            runs.append([click])
    return runs


def naive_of(rows: list[dict[str, Any]], counts: dict[str, int], score: float) -> dict[str, int | bool]:
    """Rage bursts, dead clicks and had_friction of a session by the naive rules (cx_signals.truth.naive_friction;
    the friction score with those two parts as the naive rules count them, one burst enough)."""
    frame = pl.DataFrame(
        [{k: r[k] for k in ("ts", "event_type", "x", "y")} for r in rows],
        schema={"ts": pl.Datetime("us", "UTC"), "event_type": pl.String, "x": pl.Int64, "y": pl.Int64},
    )
    rage, dead = naive_friction(frame, FRICTION_PARAMETERS)
    weights = FRICTION["score_weights"]
    score += weights["rage_clicks"] * (rage - counts["rage_click_bursts"])
    score += weights["dead_clicks"] * (dead - counts["dead_clicks"])
    return {
        "rage_click_bursts": rage,
        "dead_clicks": dead,
        "had_friction": score >= FRICTION["session_friction_threshold"],
    }


def friction_of(rows: list[dict[str, Any]], errors: list[datetime]) -> tuple[dict[str, int], list[datetime]]:
    """Recompute the session friction counts with config thresholds, and when each item happened."""
    clicks = [r for r in rows if r["event_type"] == "click"]
    selections = [r["ts"] for r in rows if r["event_type"] == "selection_change"]
    bursts = [
        run
        for run in click_runs(clicks)
        if len(run) >= FRICTION["rage_click_min_clicks"]
        and not any(rage_exempt(c) for c in run)
        and not any(run[0]["ts"] <= t <= run[-1]["ts"] for t in selections)
    ]
    in_burst = {id(c) for run in bursts for c in run}
    answers = [r["ts"] for r in rows if r["event_type"] in {"page_view", "page_leave", "dom_change", "input"}]
    quick_answers = [r["ts"] for r in rows if r["event_type"] in {"scroll", "selection_change"}]
    dead_window = timedelta(milliseconds=FRICTION["dead_click_window_ms"])
    quick_window = timedelta(milliseconds=FRICTION["dead_click_scroll_window_ms"])
    error_window = timedelta(milliseconds=FRICTION["error_click_window_ms"])
    dead = [
        c
        for c in clicks
        if id(c) not in in_burst
        and not never_dead(c)
        and not any(c["ts"] < a <= c["ts"] + dead_window for a in answers)
        and not any(c["ts"] < a <= c["ts"] + quick_window for a in quick_answers)
    ]
    error_clicks = [c for c in clicks if any(c["ts"] < e <= c["ts"] + error_window for e in errors)]
    views = [r for r in rows if r["event_type"] == "page_view"]
    quick = timedelta(seconds=FRICTION["quick_back_seconds"])
    quick_backs = sum(
        1
        for a, b, c in zip(views, views[1:], views[2:], strict=False)
        if c["page"] == a["page"] != b["page"] and c["ts"] - b["ts"] < quick
    )
    form_errors = [r["ts"] for r in rows if r["event_type"] == "form_error"]
    counts = {
        "rage_click_bursts": len(bursts),
        "rage_clicks": sum(len(run) for run in bursts),
        "dead_clicks": len(dead),
        "error_clicks": len(error_clicks),
        "form_errors": len(form_errors),
        "quick_backs": quick_backs,
        "help_views": sum(r["event_type"] == "help_view" for r in rows),
    }
    items = [run[0]["ts"] for run in bursts] + form_errors + [c["ts"] for c in error_clicks]
    return counts, items


@pytest.fixture(scope="module")
def recomputed(
    events: pl.DataFrame, telemetry: list[dict[str, Any]]
) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[str, list[datetime]]]:
    """Per session: friction counts, bounds and score recomputed from the files; per customer: item times."""
    by_session: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in telemetry:
        if row["session_id"]:
            by_session[row["session_id"]].append(row)
    slow_ms = 4 * FRICTION["apdex_t_ms"]
    weights = FRICTION["score_weights"]
    result: dict[tuple[str, str], dict[str, Any]] = {}
    customer_items: dict[str, list[datetime]] = defaultdict(list)
    for key, rows in sessionise(events).items():
        tele = by_session.get(key[1], []) if key[0] == "sid" else []
        errors = [ts(t["ts"]) for t in tele if t["kind"] == "error"]
        counts, items = friction_of(rows, errors)
        slow = [ts(t["ts"]) for t in tele if t["kind"] == "latency" and t["duration_ms"] > slow_ms]
        crashes = [ts(t["ts"]) for t in tele if t["kind"] == "crash"]
        counts |= {"slow_pages": len(slow), "crashes": len(crashes), "errors": len(errors)}
        items += slow + crashes
        score = weights["rage_clicks"] * counts["rage_click_bursts"] + sum(
            weights[k] * counts[k] for k in weights if k != "rage_clicks"
        )
        max_gap = max((b["ts"] - a["ts"] for a, b in pairwise(rows)), default=timedelta(0))
        bursts = counts["rage_click_bursts"]
        friction = score >= FRICTION["session_friction_threshold"] and (
            bursts == 0 or bursts >= FRICTION["session_min_rage_bursts"] or score > weights["rage_clicks"] * bursts
        )
        result[key] = {
            "counts": counts, "items": items, "score": score, "rows": rows, "max_gap": max_gap, "friction": friction,
            "naive": naive_of(rows, counts, score),
        }  # fmt: skip
        if rows[0]["customer_id"] and friction:
            customer_items[rows[0]["customer_id"]].extend(items)
    return result, customer_items


def test_session_friction_truth_recomputed_from_events_and_telemetry(
    recomputed: tuple[dict[tuple[str, str], dict[str, Any]], dict[str, list[datetime]]],
    telemetry: list[dict[str, Any]],
    truth: dict[str, pl.DataFrame],
) -> None:
    sessions, _ = recomputed
    expected = {}
    for r in truth["sessions"].iter_rows(named=True):
        anon_key = f"{r['anonymous_id']}@{r['session_start'].isoformat()}"
        expected[("sid", r["session_id"]) if r["session_id"] else ("anon", anon_key)] = r
    assert set(sessions) == set(expected)
    for key, got in sessions.items():
        row, counts, rows = expected[key], got["counts"], got["rows"]
        assert counts == {k: row[k] for k in counts}, key
        assert row["has_rage_click"] == (counts["rage_click_bursts"] > 0)
        assert row["had_friction"] == got["friction"], key
        assert (row["session_start"], row["session_end"]) == (rows[0]["ts"], rows[-1]["ts"])
        assert got["max_gap"] < timedelta(minutes=CONFIG["sessions"]["inactivity_minutes"])
        # Planted friction always crosses the session threshold; light sessions never do.
        assert (got["score"] >= FRICTION["session_friction_threshold"]) == bool(got["items"]), key
    for name in FRICTION_COUNTS:
        assert truth["sessions"][name].sum() > 0, name
    sessionless = [r for r in telemetry if not r["session_id"]]
    assert all(r["kind"] in {"api_call", "latency"} and r["duration_ms"] <= 1500 for r in sessionless)


def test_decoys_are_present_and_not_counted(events: pl.DataFrame) -> None:
    clicks = events.filter(pl.col("event_type") == "click").sort("ts", maintain_order=True)
    pairs = quick_far = slow_repeat = 0
    for _, group in clicks.group_by(["anonymous_id", "session_id"], maintain_order=True):
        ts_ms = [t.timestamp() * 1000 for t in group["ts"]]
        xs, ys = group["x"].to_list(), group["y"].to_list()
        gaps = [b - a for a, b in pairwise(ts_ms)]
        dist = [abs(xs[i + 1] - xs[i]) + abs(ys[i + 1] - ys[i]) for i in range(len(gaps))]
        quick = [g < 1000 and d < 30 for g, d in zip(gaps, dist, strict=True)]
        for i, q in enumerate(quick):
            isolated = (i == 0 or not quick[i - 1]) and (i + 1 == len(quick) or not quick[i + 1])
            pairs += q and isolated
            quick_far += gaps[i] < 1000 and dist[i] >= 60
            slow_repeat += 1500 <= gaps[i] < 2500 and dist[i] < 10
    assert pairs > 0 and quick_far > 0 and slow_repeat > 0


def test_sessions_span_midnight_and_some_have_no_session_id(
    truth: dict[str, pl.DataFrame], events: pl.DataFrame
) -> None:
    sessions = truth["sessions"]
    crossing = sessions.filter(pl.col("session_start").dt.date() != pl.col("session_end").dt.date())
    assert crossing["session_id"].null_count() >= 1 and crossing["session_id"].drop_nulls().len() >= 1
    assert 0.03 <= events["session_id"].is_null().mean() <= 0.2
    assert sessions["customer_id"].null_count() > 0


def test_contact_friction_truth_matches_recomputed_items(
    recomputed: tuple[dict[tuple[str, str], dict[str, Any]], dict[str, list[datetime]]],
    truth: dict[str, pl.DataFrame],
) -> None:
    _, items = recomputed
    pre = timedelta(minutes=CONFIG["journeys"]["pre_contact_window_minutes"])
    post = timedelta(hours=CONFIG["outcomes"]["cwq_friction_window_hours"])
    conv = truth["conversations"]
    for row in conv.iter_rows(named=True):
        times = items.get(row["customer_id"], [])
        start, end = row["started_at"], row["ended_at"]
        assert row["pre_contact_friction"] == any(start - pre <= t < start for t in times)
        assert row["post_contact_friction"] == any(end < t <= end + post for t in times)
        edges = (start - pre, end + post)
        assert not any(abs(t - edge) < timedelta(minutes=1) for t in times for edge in edges)
    with_friction = conv.filter(pl.col("pre_contact_friction"))
    assert 0.1 <= with_friction.height / conv.height <= 0.5
    assert conv["post_contact_friction"].any()
    # Failure demand: contacts after friction are more often payment or login issues than average.
    failure_demand = pl.col("intent").is_in(["payment_failed", "account_locked", "password_reset"])
    assert with_friction.select(failure_demand.mean()).item() > conv.select(failure_demand.mean()).item()


def test_contact_start_shortly_precedes_chats(events: pl.DataFrame, conversations: list[dict[str, Any]]) -> None:
    contact = events.filter(pl.col("event_type") == "contact_start")
    chat_starts = {
        (c["customer_id"], ts(c["started_at"])) for c in conversations if c["channel"] in {"chat", "messaging"}
    }
    matched = 0
    for row in contact.filter(pl.col("properties").str.contains('"chat"')).iter_rows(named=True):
        matched += any(
            cust == row["customer_id"] and timedelta(0) < start - row["ts"] <= timedelta(minutes=2)
            for cust, start in chat_starts
        )
    assert matched > 0


def test_small_inputs_and_bad_arguments(tmp_path: Path) -> None:
    counts = generate_landing(tmp_path / "one", days=1, customers=5, seed=1)
    assert counts["customers"] == 5 and len(list((tmp_path / "one" / "events").iterdir())) == 1
    with pytest.raises(ValueError):
        generate_landing(tmp_path / "none", days=0, customers=5)


def test_generation_is_fast_enough(tmp_path: Path) -> None:
    started = datetime.now(UTC)
    counts = generate_landing(tmp_path, days=7, customers=400, seed=5)
    assert datetime.now(UTC) - started < timedelta(seconds=10)
    assert counts["events"] > 5 * counts["conversations"] > 0


def test_conversation_ids_follow_start_order_across_shards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generate, "SHARD_CUSTOMER_DAYS", 3 * 25)
    generate_landing(tmp_path, days=3, customers=200, seed=8)
    truth = pl.read_parquet(tmp_path / "_truth" / "conversations.parquet")
    # numbered 1.. in start order; the conversations an action averted (cx_signals.generate.actions) leave gaps
    averted = pl.read_parquet(tmp_path / "_truth" / "interventions.parquet")["repeats_averted"].sum()
    numbers = [int(c.removeprefix("CV")) for c in truth["conversation_id"]]
    assert numbers == sorted(set(numbers)) and numbers[0] == 1
    if not averted:
        assert numbers == list(range(1, len(numbers) + 1))
    ordered = truth.sort(["started_at", "customer_id"], maintain_order=True)
    assert ordered["conversation_id"].to_list() == truth["conversation_id"].to_list()
    ids = set(truth["conversation_id"])
    assert set(truth["chain_id"]) <= ids and set(truth["resolving_conversation_id"].drop_nulls()) <= ids
    assert not list(tmp_path.glob(".spool-*")), "the scratch spool is removed"


def test_memory_does_not_grow_with_days(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Four times the days (so several times the records) for the same customers: the same peak of traced memory."""
    generate_landing(tmp_path / "warm-up", days=2, customers=20, seed=2)  # first-use caches are not the generator's
    monkeypatch.setattr(generate, "SHARD_CUSTOMER_DAYS", 300)
    peaks, events = [], []
    for days in (3, 12):
        tracemalloc.start()
        try:
            events.append(generate_landing(tmp_path / str(days), days=days, customers=100, seed=2)["events"])
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert events[1] > 2 * events[0]
    assert peaks[1] < 1.5 * peaks[0], peaks


def test_progress_names_the_customers_planned_and_each_day_written(tmp_path):
    messages: list[str] = []
    generate_landing(tmp_path, days=2, customers=20, seed=3, progress=messages.append)
    assert messages == [
        "planning customers 1-20 of 20",
        "writing 2026-10-01 (day 1 of 2)",
        "writing 2026-10-02 (day 2 of 2)",
    ]


RULE_COLUMN = {"rage": "rage_click_bursts", "dead": "dead_clicks", "session": "had_friction"}


def test_friction_cases_carry_their_scenario_and_the_rules_get_exactly_the_near_misses_wrong(
    recomputed: tuple[dict[tuple[str, str], dict[str, Any]], dict[str, list[datetime]]],
    truth: dict[str, pl.DataFrame],
) -> None:
    sessions, _ = recomputed
    right: dict[str, dict[str, list[bool]]] = {"rule": defaultdict(list), "naive": defaultdict(list)}
    for r in truth["sessions"].filter(pl.col("friction_case").is_not_null()).iter_rows(named=True):
        case = CASES[r["friction_case"]]
        anon_key = f"{r['anonymous_id']}@{r['session_start'].isoformat()}"
        got = sessions[("sid", r["session_id"]) if r["session_id"] else ("anon", anon_key)]
        # the scenario's truth is the case's, whatever the rule finds
        positive = not r["case_page_answered"] if case.rule == "dead" else r["case_frustrated"]
        assert positive is case.positive and (r["case_frustrated"] is None) == (case.rule == "dead"), r
        column = RULE_COLUMN[case.rule]
        fired = got["friction"] if column == "had_friction" else got["counts"][column] > 0
        right["rule"][r["friction_case"]].append(fired == positive)
        right["naive"][r["friction_case"]].append(bool(got["naive"][column]) == positive)
    assert set(right["rule"]) == set(CASES)
    for rules, wrong in (("rule", RULE_MISSES | RULE_FALSE_ALARMS), ("naive", NAIVE_MISSES | NAIVE_FALSE_ALARMS)):
        assert {case for case, ok in right[rules].items() if not any(ok)} == wrong, rules
        assert all(all(ok) for case, ok in right[rules].items() if case not in wrong), rules
    assert {name for name in RULE_MISSES | NAIVE_MISSES if not CASES[name].positive} == set()
    assert {name for name in RULE_FALSE_ALARMS | NAIVE_FALSE_ALARMS if CASES[name].positive} == set()


def _transcripts(root: Path) -> dict[str, dict[str, Any]]:
    records = {}
    for path in sorted((root / "transcripts").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                records[record["conversation_id"]] = record
    return records


def test_planted_bot_outcomes_change_only_turn_texts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Assumed resolutions and bot loops draw from their own stream and replace turns drawn as before: without them
    every file is the same but for the turn texts of the conversations they were planted in; the truth's loop counts
    are the bot texts repeated, and only conversations with a bot or IVR turn have a bot outcome."""
    generate_landing(tmp_path / "planted", days=3, customers=300, seed=2)
    for share in ("ASSUMED_RESOLUTION_SHARE", "REPHRASE_LOOP_SHARE", "FIX_LOOP_SHARE"):
        monkeypatch.setattr(f"cx_signals.generate.conversations.{share}", 0.0)
    generate_landing(tmp_path / "plain", days=3, customers=300, seed=2)
    planted, plain = tmp_path / "planted", tmp_path / "plain"
    for folder in ("events", "telemetry"):
        for path in (plain / folder).iterdir():
            assert path.read_bytes() == (planted / folder / path.name).read_bytes(), path.name
    truth = pl.read_parquet(planted / "_truth" / "conversations.parquet")
    plain_truth = pl.read_parquet(plain / "_truth" / "conversations.parquet")
    assert truth.drop("bot_outcome", "bot_loops").equals(plain_truth.drop("bot_outcome", "bot_loops"))
    assert plain_truth["bot_loops"].sum() == 0 and "assumed_resolution" not in plain_truth["bot_outcome"].to_list()
    outcomes = set(truth["bot_outcome"].drop_nulls())
    assert outcomes == {"escalated", "confirmed_resolution", "assumed_resolution", "abandoned", "failed"}
    assert truth.filter(pl.col("bot_outcome").is_null())["channel"].unique().sort().to_list() == ["email", "social"]

    records, plain_records = _transcripts(planted), _transcripts(plain)
    assert records.keys() == plain_records.keys()
    row = {r["conversation_id"]: r for r in truth.iter_rows(named=True)}
    for cid, record in records.items():
        turns = [{k: v for k, v in t.items() if k != "text"} for t in record["turns"]]
        assert turns == [{k: v for k, v in t.items() if k != "text"} for t in plain_records[cid]["turns"]]
        bot_texts = [t["text"] for t in record["turns"] if t["speaker"] == "bot"]
        assert row[cid]["bot_loops"] == len(bot_texts) - len(set(bot_texts))
        if record != plain_records[cid]:
            truth_row = row[cid]
            assert (
                truth_row["bot_loops"] > 0
                or truth_row["bot_outcome"] == "assumed_resolution"
                or (truth_row["bot_outcome"] == "failed" and truth_row["repeat_contact"])
            )
