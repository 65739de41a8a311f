"""Hostile input through `validate_record` and `ingest_source`: each test fails if the protection it names is
removed. Time floor and limits from parameters, non-finite numbers and epoch strings, trimmed and placeholder ids,
duplicate keys, times clamped into their conversation, PII outside the free-text fields, quarantine cuts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cx_signals.config import load_config
from cx_signals.contracts import TimeBounds, input_contracts, validate_record
from cx_signals.db import replace_rows
from cx_signals.ingest import IngestResult, ingest_source, landing_days
from cx_signals.landing import FileRead, LandingRecord, discover
from cx_signals.privacy import pseudonym

CONFIG = load_config()
NOW = datetime(2026, 11, 1)
BOUNDS = TimeBounds.from_config(CONFIG, NOW)
LIMITS = {k: CONFIG["ingest"][k] for k in ("max_text_chars", "placeholder_ids")}
DAY = date(2026, 10, 1)
KEY = b"test-key"
EMAIL, PHONE, CARD = "jo.smith@example.com", "+44 7911 123456", "4111 1111 1111 1111"
# What must never be stored: fragments of the planted values, whether they were written in the clear or URL-encoded.
LEAKS = re.compile(r"jo\.smith|example\.com|7911|123456|4111", re.IGNORECASE)


def write(path: Path, data: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data, encoding="utf-8")
    return path


def iso(moment: datetime) -> str:
    return moment.isoformat() + "Z"


def jsonl(path: Path, records: list[Any]) -> Path:
    return write(path, "".join(json.dumps(r) + "\n" for r in records))


def ingest(root: Path, source: str, days: set[date] | None = None, **kwargs: Any) -> IngestResult:
    files = [f for f in discover(root) if f.source == source]
    result = ingest_source(source, files, days or {DAY}, BOUNDS, KEY, **{**LIMITS, **kwargs})
    for counts in result.counts.values():
        assert counts.reconciles, counts
    return result


def conversation(cid: str = "c-1", start: datetime = datetime(2026, 10, 1, 9), **overrides: Any) -> dict[str, Any]:
    return {
        "conversation_id": cid,
        "customer_id": "C1",
        "channel": "chat",
        "started_at": start.isoformat() + "Z",
        "ended_at": (start + timedelta(minutes=10)).isoformat() + "Z",
        "consent_analytics": True,
        "turns": [{"turn_id": "t1", "speaker": "customer", "ts": start.isoformat() + "Z", "text": "hello"}],
        **overrides,
    }


def telemetry(**overrides: Any) -> dict[str, Any]:
    return {
        "ts": "2026-10-01T10:00:00Z",
        "anonymous_id": "a1",
        "app": "web",
        "kind": "latency",
        "name": "/",
        **overrides,
    }


def event(event_id: str = "e-1", **overrides: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "ts": "2026-10-01T11:00:00Z",
        "anonymous_id": "a1",
        "event_type": "click",
        **overrides,
    }


def rules(source: str, record: dict[str, Any], **limits: Any) -> list[tuple[str, str | None]]:
    _, violations = validate_record(input_contracts()[source], record, BOUNDS, **{**LIMITS, **limits})
    return [(v.rule, v.field) for v in violations]


def stored_strings(result: IngestResult) -> list[str]:
    """Every string ingest would store: raw rows, quarantine rows and the audit's inputs."""
    rows = [r for table in result.rows.values() for r in table] + result.rejects
    rows += [i for inputs in result.inputs.values() for i in inputs.values()]
    return [v for row in rows for v in row.values() if isinstance(v, str)]


# --- 1. limits are parameters, the time floor is ingest.min_timestamp ----------------------------------------


def test_importing_validation_and_ingest_reads_no_config():
    code = (
        "import cx_signals.config as config\n"
        "def refuse(*args, **kwargs):\n"
        "    raise SystemExit('config read at import time')\n"
        "config.load_config = refuse\n"
        "import cx_signals.contracts, cx_signals.ingest\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr


def test_the_text_limit_is_the_parameter_given():
    record = telemetry(message="x" * 50)
    assert ("too_long", "message") in rules("telemetry", record, max_text_chars=49)
    assert rules("telemetry", record, max_text_chars=50) == []


def test_conversations_from_2011_and_2017_load_on_their_days(tmp_path):
    old = [conversation("c-2011", datetime(2011, 3, 1, 9)), conversation("c-2017", datetime(2017, 6, 30, 9))]
    jsonl(tmp_path / "transcripts" / "old-2026-10-01.jsonl", old)
    config = CONFIG.merged({"partitions": {"start_date": None}})
    days = landing_days(discover(tmp_path), config, now=NOW)
    assert days == {date(2011, 3, 1), date(2017, 6, 30)}
    result = ingest(tmp_path, "transcripts", days)
    assert result.rejects == []
    assert sorted(r["conversation_id"] for r in result.rows["raw.conversations"]) == ["c-2011", "c-2017"]


def test_timestamps_before_ingest_min_timestamp_are_too_old():
    record = conversation(start=datetime(1989, 12, 31, 9))
    assert ("too_old_timestamp", "started_at") in rules("transcripts", record)


# --- 2. non-finite numbers are rejected, never missing; epoch strings are epochs --------------------------------


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), float("-inf"), "NaN", "nan", "inf", "-Infinity", "1e400"]
)
@pytest.mark.parametrize("field", ["duration_ms", "status_code"])
def test_a_non_finite_number_is_a_wrong_type_never_a_null(field, value):
    _, violations = validate_record(input_contracts()["telemetry"], telemetry(**{field: value}), BOUNDS, **LIMITS)
    assert [(v.rule, v.field) for v in violations] == [("wrong_type", field)]
    assert "not a finite number" in violations[0].detail


@pytest.mark.parametrize("value", [float("nan"), "NaN", "-Infinity"])
def test_a_non_finite_csat_or_click_position_is_rejected(value):
    assert rules("transcripts", conversation(csat=value)) == [("wrong_type", "csat")]
    assert rules("events", event(x=value)) == [("wrong_type", "x")]


def test_nan_in_parquet_and_in_csv_is_quarantined_like_infinity(tmp_path):
    durations = [12.5, float("nan"), float("inf"), float("-inf")]
    (tmp_path / "telemetry").mkdir()
    pq.write_table(
        pa.table(
            {
                "ts": pa.array([datetime(2026, 10, 1, 10, 0, i) for i in range(4)]),
                "anonymous_id": pa.array(["a1"] * 4),
                "app": pa.array(["web"] * 4),
                "kind": pa.array(["latency"] * 4),
                "name": pa.array(["/"] * 4),
                "duration_ms": pa.array(durations, pa.float64()),
            }
        ),
        tmp_path / "telemetry" / "t-2026-10-01.parquet",
    )
    header = "ts,anonymous_id,app,kind,name,duration_ms\n"
    cells = ["7", "NaN", "inf", "-Infinity"]
    write(
        tmp_path / "telemetry" / "t-2026-10-01.csv",
        header + "".join(f"2026-10-01T10:01:0{i},a2,web,latency,/,{c}\n" for i, c in enumerate(cells)),
    )
    result = ingest(tmp_path, "telemetry")
    assert sorted((r["source_file"].rsplit(".", 1)[1], r["source_line"], r["rule"]) for r in result.rejects) == [
        ("csv", 3, "wrong_type"),
        ("csv", 4, "wrong_type"),
        ("csv", 5, "wrong_type"),
        ("parquet", 2, "wrong_type"),
        ("parquet", 3, "wrong_type"),
        ("parquet", 4, "wrong_type"),
    ]
    assert sorted(r["duration_ms"] for r in result.rows["raw.telemetry"]) == [7.0, 12.5]


def test_epoch_strings_in_csv_cells_are_epochs_like_json_numbers(tmp_path):
    day = date(2023, 10, 1)
    header = "ts,anonymous_id,app,kind,name\n"
    cells = ["1696156800", "1696156800000", "1696156800.5", "2023-10-01T10:40:00Z"]
    write(tmp_path / "telemetry" / "t.csv", header + "".join(f"{c},a{i},web,latency,/\n" for i, c in enumerate(cells)))
    jsonl(tmp_path / "telemetry" / "t.jsonl", [telemetry(ts=1696156800, anonymous_id="j1")])
    result = ingest(tmp_path, "telemetry", {day})
    assert result.rejects == []
    by_device = {r["anonymous_id"]: r["ts"] for r in result.rows["raw.telemetry"]}
    at = datetime(2023, 10, 1, 10, 40)
    assert by_device == {"a0": at, "a1": at, "a2": at + timedelta(seconds=0.5), "a3": at, "j1": at}


# --- 3. ids are trimmed; placeholders are absent --------------------------------------------------------------


def test_the_contracts_mark_every_identifier_field_as_an_id():
    ids = {
        (c.name, f.name)
        for c in input_contracts().values()
        for fields in (c.fields, *c.items.values())
        for f in fields
        if f.id
    }
    names = {name for _, name in ids}
    assert names == {
        "conversation_id",
        "customer_id",
        "agent_id",
        "anonymous_id",
        "session_id",
        "event_id",
        "turn_id",
        "action_id",
        "alert_id",
        "actor_id",
        "journey_id",
    }
    assert ("transcripts", "agent_id") in ids and ("telemetry", "session_id") in ids
    assert ("actions", "actor_id") in ids and ("actions", "journey_id") in ids


def test_padded_ids_are_trimmed_so_that_they_share_a_pseudonym_and_deduplicate(tmp_path):
    jsonl(
        tmp_path / "transcripts" / "c-2026-10-01.jsonl",
        [conversation("c-1"), conversation(" c-1 ", customer_id="C1\t"), conversation("c-2", customer_id=" C1")],
    )
    result = ingest(tmp_path, "transcripts")
    assert (result.counts[DAY].loaded, result.counts[DAY].duplicates) == (2, 1)
    conversations = result.rows["raw.conversations"]
    assert [r["conversation_id"] for r in conversations] == ["c-1", "c-2"]
    assert {r["customer_id"] for r in conversations} == {"C1"}
    assert {r["customer_key"] for r in conversations} == {pseudonym("C1", KEY)}


@pytest.mark.parametrize("placeholder", ["undefined", "null", " NULL ", "(not set)", "n/a", "-", "0", 0, "nan"])
def test_a_placeholder_id_is_missing(placeholder):
    assert ("missing_required", "customer_id") in rules("transcripts", conversation(customer_id=placeholder))
    assert ("missing_required", "event_id") in rules("events", event(placeholder))
    assert ("missing_required", "customer_id|anonymous_id") in rules(
        "telemetry", telemetry(anonymous_id=placeholder, customer_id=placeholder)
    )
    turns = [{"turn_id": placeholder, "speaker": "customer", "ts": "2026-10-01T09:00:00Z"}]
    assert ("missing_required", "turns[0].turn_id") in rules("transcripts", conversation(turns=turns))


def test_placeholders_are_the_configured_list():
    assert rules("transcripts", conversation(customer_id="undefined"), placeholder_ids=[]) == []
    assert rules("transcripts", conversation(customer_id="unknown"), placeholder_ids=["UNKNOWN"]) == [
        ("missing_required", "customer_id")
    ]


def test_a_placeholder_session_id_is_null_so_that_events_are_sessionised_on_inactivity(tmp_path):
    records = [
        event("e-1", session_id="(not set)", customer_id="undefined"),
        event("e-2", session_id="undefined", anonymous_id="a2"),
        event("e-3", session_id=" s-9 "),
        event("e-4", session_id="s-undefined"),
    ]
    jsonl(tmp_path / "events" / "e-2026-10-01.jsonl", records)
    jsonl(tmp_path / "telemetry" / "t-2026-10-01.jsonl", [telemetry(session_id="null", customer_id="None")])
    rows = {r["event_id"]: r for r in ingest(tmp_path, "events").rows["raw.events"]}
    assert {k: r["session_id"] for k, r in rows.items()} == {
        "e-1": None,
        "e-2": None,
        "e-3": "s-9",
        "e-4": "s-undefined",
    }
    assert (rows["e-1"]["customer_id"], rows["e-1"]["customer_key"]) == (None, None)
    [row] = ingest(tmp_path, "telemetry").rows["raw.telemetry"]
    assert (row["session_id"], row["customer_id"], row["customer_key"]) == (None, None, None)


# --- 4. duplicate keys are rejects ---------------------------------------------------------------------------


def twice(record: dict[str, Any]) -> str:
    """`record` as JSON giving consent_analytics twice: false, then true (the last would silently win)."""
    return json.dumps(record).replace(
        '"consent_analytics": true', '"consent_analytics": false, "consent_analytics": true'
    )


def test_a_record_landing_rejected_for_a_duplicate_key_is_quarantined_under_that_rule(tmp_path):
    write(tmp_path / "transcripts" / "c-2026-10-01.jsonl", "read by hand below\n")
    [file] = discover(tmp_path)
    bad = LandingRecord(1, twice(conversation()), error="duplicate key 'consent_analytics'", rule="duplicate_key")
    good = LandingRecord(2, json.dumps(conversation("c-2")), value=conversation("c-2"))
    reads = {file.sha256: FileRead(file, [bad, good])}
    result = ingest_source("transcripts", [file], {DAY}, BOUNDS, KEY, reads, **LIMITS)
    [reject] = result.rejects
    assert (reject["source_line"], reject["rule"], reject["field"]) == (1, "duplicate_key", None)
    assert "consent_analytics" in reject["reason"] and reject["payload"] == bad.payload
    assert [r["conversation_id"] for r in result.rows["raw.conversations"]] == ["c-2"]
    assert result.counts[DAY].reconciles and result.counts[DAY].quarantined == 1


def test_duplicate_keys_read_from_a_file_are_quarantined(tmp_path):
    write(tmp_path / "transcripts" / "c-2026-10-01.jsonl", twice(conversation()) + "\n")
    result = ingest(tmp_path, "transcripts")
    assert [r["rule"] for r in result.rejects] == ["duplicate_key"] and result.rows["raw.conversations"] == []


# --- 5. times inside a conversation are clamped into it ------------------------------------------------------


def test_turn_and_event_times_outside_the_conversation_are_clamped_and_flagged(tmp_path, con):
    start = datetime(2026, 10, 1, 9)
    record = conversation(
        channel="voice",
        turns=[
            {"turn_id": "t1", "speaker": "customer", "ts": iso(start - timedelta(hours=2)), "text": "hello"},
            {"turn_id": "t2", "speaker": "agent", "agent_id": "A1", "ts": iso(start + timedelta(seconds=5))},
            {
                "turn_id": "t3",
                "speaker": "customer",
                "ts": iso(start + timedelta(minutes=9)),
                "end_ts": iso(start + timedelta(hours=3)),
            },
        ],
        events=[
            {"event_type": "hold_start", "ts": iso(start + timedelta(minutes=1))},
            {"event_type": "hold_end", "ts": iso(start + timedelta(hours=3))},
        ],
    )
    jsonl(tmp_path / "transcripts" / "c-2026-10-01.jsonl", [record])
    result = ingest(tmp_path, "transcripts")
    end = start + timedelta(minutes=10)
    turns, events = result.rows["raw.turns"], result.rows["raw.conversation_events"]
    assert [(t["turn_id"], t["ts"], t["end_ts"], t["ts_clamped"]) for t in turns] == [
        ("t1", start, None, True),
        ("t2", start + timedelta(seconds=5), None, False),
        ("t3", start + timedelta(minutes=9), end, True),
    ]
    assert (turns[1]["ts"] - turns[0]["ts"]).total_seconds() == 5  # first response, not 7,205 s
    assert [(e["ts"], e["ts_clamped"]) for e in events] == [(start + timedelta(minutes=1), False), (end, True)]
    assert (events[1]["ts"] - events[0]["ts"]).total_seconds() <= 600  # the hold fits in the call
    assert result.rows["raw.conversations"][0]["clamped_times"] == 3
    for table, rows in result.rows.items():
        assert replace_rows(con, table, [DAY], rows) == len(rows)
    assert con.execute("SELECT count(*) FROM raw.turns WHERE ts_clamped").fetchone()[0] == 2


# --- 6. PII outside the free-text fields ---------------------------------------------------------------------


def test_pii_in_urls_targets_properties_telemetry_names_queues_and_intents_is_redacted(tmp_path):
    pages = [
        f"/account?email={EMAIL}",
        "/account?email=jo.smith%40example.com&phone=%2B447911123456",
        "/u/jo.smith%2540example.com",  # encoded twice
        "/call?to=%2B44+7911+123456",
    ]
    events = [event(f"e-{i}", page=page) for i, page in enumerate(pages)]
    events.append(
        event(
            "e-9",
            target=f"input[value='{EMAIL}']",
            properties={"email": EMAIL, "deep": [{"note": f"call {PHONE}"}], EMAIL: True},
        )
    )
    jsonl(tmp_path / "events" / "e-2026-10-01.jsonl", events)
    jsonl(tmp_path / "telemetry" / "t-2026-10-01.jsonl", [telemetry(name=f"/users/{EMAIL}/orders")])
    record = conversation(
        queue=f"vip {EMAIL}",
        intent=f"refund to card {CARD}",
        events=[{"event_type": "transfer", "ts": "2026-10-01T09:01:00Z", "queue": f"callback {PHONE}"}],
    )
    jsonl(tmp_path / "transcripts" / "c-2026-10-01.jsonl", [record])
    results = [ingest(tmp_path, source) for source in ("events", "telemetry", "transcripts")]
    assert all(r.rejects == [] for r in results)
    leaked = [v for result in results for v in stored_strings(result) if LEAKS.search(v)]
    assert leaked == []
    rows = {r["event_id"]: r for r in results[0].rows["raw.events"]}
    assert rows["e-0"]["page"] == "/account?email=[EMAIL]"
    assert "[PHONE]" in rows["e-1"]["page"] and "[EMAIL]" in rows["e-1"]["page"]
    assert json.loads(rows["e-9"]["properties"])["email"] == "[EMAIL]"
    assert results[1].rows["raw.telemetry"][0]["name"] == "/users/[EMAIL]/orders"


def test_deeply_nested_properties_are_redacted_without_exhausting_the_stack(tmp_path):
    deep: Any = EMAIL
    for _ in range(900):
        deep = [deep]
    jsonl(tmp_path / "events" / "e-2026-10-01.jsonl", [event(properties={"deep": deep})])
    result = ingest(tmp_path, "events")
    [row] = result.rows["raw.events"]
    assert "[EMAIL]" in row["properties"] and EMAIL not in row["properties"]


def test_ids_carrying_pii_are_replaced_by_stable_unique_pseudonyms(tmp_path):
    phone_id = "c-+447911123456"
    record = conversation(
        phone_id, turns=[{"turn_id": f"t-{EMAIL}", "speaker": "customer", "ts": "2026-10-01T09:00:00Z"}]
    )
    jsonl(tmp_path / "transcripts" / "c-2026-10-01.jsonl", [record, conversation("c-plain")])
    events = [event(f"e-{EMAIL}", session_id=f"s-{EMAIL}"), event("e-2", session_id=f"s-{EMAIL}")]
    jsonl(tmp_path / "events" / "e-2026-10-01.jsonl", events)
    transcripts, clicks = ingest(tmp_path, "transcripts"), ingest(tmp_path, "events")
    expected = "pii-" + pseudonym(phone_id, KEY)
    assert [r["conversation_id"] for r in transcripts.rows["raw.conversations"]] == [expected, "c-plain"]
    [turn, _] = transcripts.rows["raw.turns"]
    assert (turn["conversation_id"], turn["turn_id"]) == (expected, "pii-" + pseudonym(f"t-{EMAIL}", KEY))
    rows = clicks.rows["raw.events"]
    assert rows[0]["event_id"] == "pii-" + pseudonym(f"e-{EMAIL}", KEY) and rows[1]["event_id"] == "e-2"
    assert rows[0]["session_id"] == rows[1]["session_id"] == "pii-" + pseudonym(f"s-{EMAIL}", KEY)
    assert [v for result in (transcripts, clicks) for v in stored_strings(result) if LEAKS.search(v)] == []


def test_identifier_fields_keep_the_clear_value_beside_their_pseudonym(tmp_path):
    jsonl(tmp_path / "transcripts" / "c-2026-10-01.jsonl", [conversation(customer_id="C-77")])
    [row] = ingest(tmp_path, "transcripts").rows["raw.conversations"]
    assert (row["customer_id"], row["customer_key"]) == ("C-77", pseudonym("C-77", KEY))


def test_file_names_are_redacted_in_raw_rows_quarantine_and_the_audit_inputs(tmp_path):
    name = "export-jo.smith@example.com-2026-10-01.jsonl"
    jsonl(tmp_path / "events" / name, [event("e-1"), event("e-2", event_type="teleport")])
    jsonl(tmp_path / "events" / "calls +44 7911 123456.jsonl", [event("e-3")])
    result = ingest(tmp_path, "events")
    names = {r["source_file"] for r in result.rows["raw.events"] + result.rejects}
    names |= {i["file"] for inputs in result.inputs.values() for i in inputs.values()}
    assert names and not any(LEAKS.search(n) for n in names)
    assert all(n.startswith("events/") for n in names)
    assert sum(len(inputs) for inputs in result.inputs.values()) == 2  # two files stay two entries


# --- 7. quarantine payloads and reasons are redacted before they are cut --------------------------------------


def test_a_card_straddling_the_payload_cut_is_redacted_whole(tmp_path):
    limit = 200
    base = json.dumps(telemetry(app="tv", message=""))
    # place the card so that the cut at `limit` falls inside it
    padding = limit - 8 - base.index('"message": "') - len('"message": "')
    message = "x" * padding + " " + CARD + " thanks"
    line = json.dumps(telemetry(app="tv", message=message))
    start = line.index(CARD)
    assert start < limit < start + len(CARD)
    write(tmp_path / "telemetry" / "t-2026-10-01.jsonl", line + "\n")
    [reject] = ingest(tmp_path, "telemetry", max_text_chars=limit).rejects
    assert len(reject["payload"]) <= limit
    assert "[CARD]" in reject["payload"] and not re.search(r"\b1111\b|4111", reject["payload"]), reject["payload"]


def test_a_card_straddling_the_reason_cut_is_redacted_whole(tmp_path):
    prefix = "not_allowed (app: '"
    app = "x" * (2000 - len(prefix) - 8) + " " + CARD + " "
    assert len(prefix) + app.index(CARD) < 2000 < len(prefix) + app.index(CARD) + len(CARD)
    jsonl(tmp_path / "telemetry" / "t-2026-10-01.jsonl", [telemetry(app=app)])
    [reject] = ingest(tmp_path, "telemetry").rejects
    assert reject["reason"].startswith(prefix) and len(reject["reason"]) <= 2000
    assert not re.search(r"\d{4}", reject["reason"]), reject["reason"][-80:]
    assert "4111" not in reject["payload"]


def test_a_payload_of_pii_is_stored_without_any_part_of_a_value_cut_by_the_redaction_window(tmp_path):
    # redaction shrinks each e-mail to [EMAIL], so the redacted window can end inside the kept text
    limit = 1000
    message = " ".join(f"user{i:04d}.{EMAIL}" for i in range(1000))
    write(tmp_path / "telemetry" / "t-2026-10-01.jsonl", json.dumps(telemetry(app="tv", message=message)) + "\n")
    [reject] = ingest(tmp_path, "telemetry", max_text_chars=limit).rejects
    assert limit // 2 <= len(reject["payload"]) <= limit
    words = reject["payload"].split('"message": "', 1)[1].split(" ")
    assert all("[EMAIL]".startswith(word) for word in words), words[-3:]


@pytest.mark.parametrize("stamp", [0, 4102444800])  # a 1970 mtime, a 2100 mtime
def test_an_undated_file_with_an_implausible_mtime_lands_on_the_run_day_not_decades_away(tmp_path, stamp):
    path = write(tmp_path / "telemetry" / "export.jsonl", "not json\n")
    os.utime(path, (stamp, stamp))
    days = landing_days(discover(tmp_path), CONFIG, now=NOW)
    assert days == {NOW.date()}
    result = ingest(tmp_path, "telemetry", days={NOW.date()})
    assert [r["partition_date"] for r in result.rejects] == [NOW.date()]
