"""Incremental runs: a run of one day reads only the landing files holding it (the manifest), and an id the raw
table already holds on another day is still caught as a conflicting duplicate."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb

import cx_signals.ingest as ingest
from cx_signals.config import load_config
from cx_signals.paths import database_files
from dagster_defs.runner import run_pipeline

D1, D2 = date(2026, 10, 1), date(2026, 10, 2)


def event(event_id: str, day: date, target: str = "button") -> dict:
    return {
        "event_id": event_id,
        "ts": f"{day}T10:00:00Z",
        "anonymous_id": "a1",
        "session_id": "s1",
        "event_type": "click",
        "target": target,
    }


def write(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def test_a_later_day_reads_only_its_files_and_still_catches_an_id_loaded_on_another_day(tmp_path, monkeypatch):
    landing, db = tmp_path / "landing", tmp_path / "cx.duckdb"
    write(landing / "events" / "e-2026-10-01.jsonl", [event("e1", D1), event("e2", D1)])
    write(landing / "events" / "e-2026-10-02.jsonl", [event("e3", D2)])
    config = load_config()
    assert run_pipeline(landing, db, [D1, D2], config).success

    write(landing / "events" / "late-2026-10-02.jsonl", [event("e1", D2, target="link")])
    read = []
    original = ingest.read_file

    def spy(file, *args, **kwargs):
        read.append(file.relative)
        return original(file, *args, **kwargs)

    monkeypatch.setattr(ingest, "read_file", spy)
    outcome = run_pipeline(landing, db, [D2], config)
    assert outcome.success and outcome.failed_checks == []
    assert "events/e-2026-10-01.jsonl" not in read
    assert {"events/e-2026-10-02.jsonl", "events/late-2026-10-02.jsonl"} <= set(read)
    with duckdb.connect(str(database_files(db).working), read_only=True) as con:
        events = con.execute("SELECT partition_date, event_id FROM raw.events ORDER BY ALL").fetchall()
        rejects = con.execute("SELECT partition_date, rule, reason FROM quarantine.rejects").fetchall()
    assert events == [(D1, "e1"), (D1, "e2"), (D2, "e3")]
    [(day, rule, reason)] = rejects
    assert (day, rule) == (D2, "conflicting_duplicate") and "first loaded on 2026-10-01" in reason
