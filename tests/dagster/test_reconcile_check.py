"""The `counts_reconcile` asset check: it passes on an honest run over bad input and fails when the rows written
or quarantined do not add up to the records read."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

import dagster_defs.assets.raw as raw_assets
from cx_signals.config import load_config
from cx_signals.ingest import IngestResult, ingest_source
from dagster_defs import runner
from dagster_defs.runner import run_pipeline

DAY = date(2026, 10, 1)
RECONCILE = {f"{table}:counts_reconcile" for table in ("raw/conversations", "raw/telemetry", "raw/events")}


def conversation(i: int) -> dict:
    return {
        "conversation_id": f"c{i}",
        "customer_id": f"C{i}",
        "channel": "chat",
        "started_at": f"2026-10-01T10:0{i}:00Z",
        "ended_at": f"2026-10-01T10:0{i}:30Z",
        "consent_analytics": True,
        "disposition": "resolved",
        "intent": "billing",
        "turns": [
            {"turn_id": "t1", "speaker": "customer", "ts": f"2026-10-01T10:0{i}:00Z", "text": "my bill is wrong"},
            {"turn_id": "t2", "speaker": "bot", "ts": f"2026-10-01T10:0{i}:10Z", "text": "sorry, it is fixed"},
        ],
    }


def telemetry(i: int, app: str = "web") -> dict:
    return {"ts": f"2026-10-01T10:00:0{i}Z", "anonymous_id": "a", "app": app, "kind": "error", "name": "E"}


def event(i: int, event_type: str = "click") -> dict:
    return {"event_id": f"e{i}", "ts": f"2026-10-01T10:00:0{i}Z", "anonymous_id": "a", "event_type": event_type}


def jsonl(path: Path, records: list[dict | str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    """A few records per source: good ones, a bad one, a duplicate, and an unreadable file."""
    root = tmp_path / "landing"
    jsonl(root / "transcripts" / "c-2026-10-01.jsonl", [conversation(1), conversation(2), conversation(1), "{broken"])
    jsonl(root / "telemetry" / "t-2026-10-01.jsonl", [telemetry(1), telemetry(2), telemetry(1), telemetry(3, "tv")])
    jsonl(root / "events" / "e-2026-10-01.jsonl", [event(1), event(2), event(3, "teleport")])
    (root / "events" / "broken-2026-10-01.parquet").write_bytes(b"not parquet")
    return root


@pytest.fixture
def evaluations(monkeypatch) -> dict[str, bool]:
    """Every reconcile check evaluation of the runs, so that a pass is seen to happen, not just no failure."""
    seen: dict[str, bool] = {}
    execute = runner._execute_group

    def spy(*args, **kwargs):
        executed = execute(*args, **kwargs)
        seen.clear()
        for event in executed[0].all_events:
            if event.event_type_value == "ASSET_CHECK_EVALUATION":
                data = event.event_specific_data
                name = f"{data.asset_key.to_user_string()}:{data.check_name}"
                if name in RECONCILE:
                    seen[name] = data.passed
        return executed

    monkeypatch.setattr(runner, "_execute_group", spy)
    return seen


def reconcile_failures(landing: Path, db: Path) -> list[str]:
    outcome = run_pipeline(landing, db, [DAY], load_config())
    return sorted(c for c in outcome.failed_checks if c in RECONCILE)


def test_counts_reconcile_passes_on_an_honest_run_and_fails_when_rows_go_missing(
    landing, tmp_path, monkeypatch, evaluations
):
    db = tmp_path / "cx.duckdb"
    assert reconcile_failures(landing, db) == []
    assert evaluations == dict.fromkeys(RECONCILE, True)
    with duckdb.connect(str(db), read_only=True) as con:
        audit = con.execute(
            "SELECT asset, records_read, rows_written, records_quarantined, duplicates_removed FROM audit.runs "
            "WHERE asset IN ('raw.conversations', 'raw.telemetry', 'raw.events') ORDER BY asset"
        ).fetchall()
        file_rejects = con.execute("SELECT count(*) FROM quarantine.rejects WHERE source_line IS NULL").fetchone()[0]
    assert audit == [("raw.conversations", 4, 2, 1, 1), ("raw.events", 3, 2, 1, 0), ("raw.telemetry", 4, 2, 1, 1)]
    assert file_rejects == 1  # the broken Parquet file: a file-level reject, outside the record counts

    def lossy(source: str, *args, **kwargs) -> IngestResult:
        # a bug that loses a row without counting it: telemetry drops a loaded row, events a quarantined one
        result = ingest_source(source, *args, **kwargs)
        if source == "telemetry":
            staged = result.staged["raw.telemetry"]
            result.con.execute(f"DELETE FROM {staged} WHERE rowid = (SELECT max(rowid) FROM {staged})")
        if source == "events":
            rejects = result.rejects_table
            result.con.execute(
                f"DELETE FROM {rejects} WHERE rowid = (SELECT min(rowid) FROM {rejects} WHERE source_line IS NOT NULL)"
            )
        return result

    monkeypatch.setattr(raw_assets, "ingest_source", lossy)
    assert reconcile_failures(landing, db) == ["raw/events:counts_reconcile", "raw/telemetry:counts_reconcile"]
    assert evaluations["raw/conversations:counts_reconcile"] is True
