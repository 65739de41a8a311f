import gzip
import json
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cx_signals.config import load_config
from cx_signals.contracts import TimeBounds
from cx_signals.ingest import ingest_source, landing_days
from cx_signals.landing import LandingPathError, discover, read_file

CONFIG = load_config()
BOUNDS = TimeBounds.from_config(CONFIG, datetime(2026, 11, 1))
LIMITS = {k: CONFIG["ingest"][k] for k in ("max_text_chars", "placeholder_ids")}
DAY = date(2026, 10, 1)
KEY = b"test-key"


def telemetry(i: int, **overrides) -> dict:
    record = {
        "ts": f"2026-10-01T10:00:{i:02d}Z",
        "customer_id": f"C{i}",
        "session_id": "s",
        "app": "web",
        "kind": "error",
        "name": "E",
        "status_code": 500,
        "message": f"mail me at c{i}@example.com",
    }
    record.update(overrides)
    return record


def write_jsonl(path: Path, lines: list[str], gz: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def test_good_records_load_and_bad_ones_are_quarantined_with_reasons(tmp_path):
    lines = [json.dumps(telemetry(i)) for i in range(5)]
    lines.insert(2, '{"ts": "2026-10-01T10:00:00Z", "app": ')  # truncated JSON
    lines.append(json.dumps(telemetry(9, app="tv")))
    lines.append(json.dumps(telemetry(1)))  # exact duplicate
    write_jsonl(tmp_path / "telemetry" / "t-2026-10-01.jsonl", lines)
    result = ingest_source("telemetry", discover(tmp_path), {DAY}, BOUNDS, KEY, **LIMITS)
    counts = result.counts[DAY]
    assert (counts.read, counts.loaded, counts.quarantined, counts.duplicates) == (8, 5, 2, 1)
    assert counts.reconciles
    assert sorted(r["rule"] for r in result.rejects) == ["not_allowed", "unparseable_record"]
    assert {r["source_line"] for r in result.rejects} == {3, 7}
    rows = result.rows["raw.telemetry"]
    assert all("[EMAIL]" in r["message"] and "@" not in r["message"] for r in rows)
    assert all(r["customer_key"] and r["customer_key"] != r["customer_id"] for r in rows)


def test_truncated_gzip_keeps_what_was_read_and_quarantines_the_file_tail(tmp_path):
    data = gzip.compress(("\n".join(json.dumps(telemetry(i)) for i in range(50)) + "\n").encode())
    path = tmp_path / "telemetry" / "t-2026-10-01.jsonl.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(data[: len(data) // 2])
    result = ingest_source("telemetry", discover(tmp_path), {DAY}, BOUNDS, KEY, **LIMITS)
    assert result.counts[DAY].loaded > 0
    file_rejects = [r for r in result.rejects if r["source_line"] is None]
    assert len(file_rejects) == 1 and file_rejects[0]["rule"] == "unreadable_file"


def test_semicolon_csv_and_parquet_are_read(tmp_path):
    csv_path = tmp_path / "telemetry" / "t.csv"
    csv_path.parent.mkdir(parents=True)
    csv_path.write_text("ts;anonymous_id;app;kind;name;duration_ms\n2026-10-01T10:00:00Z;a;web;latency;/;120\n")
    events = tmp_path / "events" / "e-2026-10-01.parquet"
    events.parent.mkdir(parents=True)
    pq.write_table(
        pa.Table.from_pylist(
            [
                {
                    "event_id": "e1",
                    "ts": datetime(2026, 10, 1, 10),
                    "anonymous_id": "a",
                    "event_type": "click",
                    "x": 1,
                    "y": 2,
                },
                {"event_id": "e2", "ts": datetime(2026, 10, 1, 10), "anonymous_id": "a", "event_type": "teleport"},
            ]
        ),
        events,
    )
    files = discover(tmp_path)
    telemetry_files = [f for f in files if f.source == "telemetry"]
    assert ingest_source("telemetry", telemetry_files, {DAY}, BOUNDS, KEY, **LIMITS).counts[DAY].loaded == 1
    result = ingest_source("events", [f for f in files if f.source == "events"], {DAY}, BOUNDS, KEY, **LIMITS)
    assert (result.counts[DAY].loaded, result.counts[DAY].quarantined) == (1, 1)


def test_unsupported_and_invalid_utf8_files(tmp_path):
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "notes-2026-10-01.xlsx").write_bytes(b"PK\x03\x04")
    bad = tmp_path / "telemetry" / "t-2026-10-01.jsonl"
    bad.parent.mkdir()
    bad.write_bytes(json.dumps(telemetry(1)).encode() + b"\n" + b'{"name": "\xff\xfe"}\n')
    files = {f.source: f for f in discover(tmp_path)}
    assert "unsupported file type" in read_file(files["events"]).file_error
    result = ingest_source("telemetry", [files["telemetry"]], {DAY}, BOUNDS, KEY, **LIMITS)
    assert [r["reason"] for r in result.rejects if "UTF-8" in r["reason"]]
    assert result.counts[DAY].loaded == 1


def test_records_go_to_the_day_of_their_timestamp_and_bad_timestamps_to_the_files_day(tmp_path):
    write_jsonl(
        tmp_path / "telemetry" / "t-2026-10-01.jsonl",
        [
            json.dumps(telemetry(1, ts="2026-10-02T23:59:59Z")),
            json.dumps(telemetry(2, ts="not a time")),
            json.dumps(telemetry(3, ts="2099-01-01T00:00:00Z")),
        ],
    )
    files = discover(tmp_path)
    assert landing_days(files, CONFIG, now=datetime(2026, 11, 1)) == {date(2026, 10, 1), date(2026, 10, 2)}
    result = ingest_source("telemetry", files, {date(2026, 10, 1), date(2026, 10, 2)}, BOUNDS, KEY, **LIMITS)
    assert result.counts[date(2026, 10, 2)].loaded == 1
    assert sorted(r["rule"] for r in result.rejects) == ["bad_timestamp", "future_timestamp"]
    assert {r["partition_date"] for r in result.rejects} == {date(2026, 10, 1)}


def test_transcripts_split_into_sorted_turns_and_events(tmp_path):
    record = {
        "conversation_id": "c1",
        "customer_id": "C1",
        "channel": "voice",
        "started_at": "2026-10-01T10:00:00Z",
        "ended_at": "2026-10-01T10:10:00Z",
        "consent_analytics": "true",
        "turns": [
            {"turn_id": "b", "speaker": "agent", "agent_id": "A7", "ts": "2026-10-01T10:01:00Z", "text": "hello"},
            {"turn_id": "a", "speaker": "customer", "ts": "2026-10-01T10:00:00Z", "text": "call +44 20 7946 0958"},
        ],
        "events": [
            {"event_type": "hold_end", "ts": "2026-10-01T10:05:00Z"},
            {"event_type": "hold_start", "ts": "2026-10-01T10:03:00Z"},
        ],
    }
    write_jsonl(tmp_path / "transcripts" / "c-2026-10-01.jsonl.gz", [json.dumps(record)], gz=True)
    result = ingest_source("transcripts", discover(tmp_path), {DAY}, BOUNDS, KEY, **LIMITS)
    turns = result.rows["raw.turns"]
    assert [t["turn_id"] for t in turns] == ["a", "b"] and [t["turn_index"] for t in turns] == [0, 1]
    assert "[PHONE]" in turns[0]["text"] and turns[0]["pii_redactions"] == 1
    assert turns[1]["agent_key"] and turns[1]["agent_key"] != "A7"
    assert [e["event_type"] for e in result.rows["raw.conversation_events"]] == ["hold_start", "hold_end"]
    assert result.rows["raw.conversations"][0]["n_turns"] == 2


def test_a_symlink_out_of_the_landing_root_is_refused(tmp_path):
    outside = tmp_path / "secret.jsonl"
    outside.write_text(json.dumps(telemetry(1)) + "\n")
    root = tmp_path / "landing"
    (root / "telemetry").mkdir(parents=True)
    (root / "telemetry" / "link-2026-10-01.jsonl").symlink_to(outside)
    write_jsonl(root / "telemetry" / "t-2026-10-01.jsonl", [json.dumps(telemetry(2))])
    # refused as a file, not for the whole run: the other file loads
    result = ingest_source("telemetry", discover(root), {DAY}, BOUNDS, KEY, **LIMITS)
    [reject] = result.rejects
    assert (reject["source_file"], reject["source_line"]) == ("telemetry/link-2026-10-01.jsonl", None)
    assert "outside the landing root" in reject["reason"]
    assert [r["source_file"] for r in result.rows["raw.telemetry"]] == ["telemetry/t-2026-10-01.jsonl"]
    with pytest.raises(LandingPathError, match="does not exist"):
        discover(tmp_path / "missing")


def test_quarantined_payloads_are_redacted_and_cut(tmp_path):
    long_message = "x" * 500
    write_jsonl(
        tmp_path / "telemetry" / "t-2026-10-01.jsonl",
        [
            json.dumps(telemetry(1, app="tv", message="call me on +44 20 7946 0958 or jo@example.com")),
            json.dumps(telemetry(2, message=long_message)),
        ],
    )
    result = ingest_source("telemetry", discover(tmp_path), {DAY}, BOUNDS, KEY, **{**LIMITS, "max_text_chars": 200})
    first, second = sorted(result.rejects, key=lambda r: r["source_line"])
    assert "[PHONE]" in first["payload"] and "[EMAIL]" in first["payload"]
    assert "7946" not in first["payload"] and "jo@example.com" not in first["payload"]
    assert second["rule"] == "too_long" and len(second["payload"]) == 200
