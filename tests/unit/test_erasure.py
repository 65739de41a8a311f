"""Erasure: a customer leaves both files (quarantine payloads included), is recorded by pseudonym only, marks the
models for retraining, and is dropped from later ingests."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import date, datetime

import duckdb
import pyarrow as pa
import pytest

from cx_signals.db import ensure_schema, publish, replace_rows
from cx_signals.erasure import (
    ErasedCustomers,
    drop_erased,
    erase_customers,
    erased_customers,
    payload_values,
    reject_customer_key,
)
from cx_signals.ingest import IngestResult
from cx_signals.locking import LockTimeout
from cx_signals.ml.artefacts import RETRAIN_MARKER
from cx_signals.paths import database_files
from cx_signals.privacy import pseudonym

KEY = b"test-key"
DAY = date(2026, 10, 1)
MOMENT = datetime(2026, 10, 1, 12)


def k(value: str) -> str:
    return pseudonym(value, KEY)


def test_payload_values_are_json_strings_numbers_and_csv_cells():
    assert {"C1", "anon-1", "12"} <= payload_values('{"customer_id": "C1", "anonymous_id": "anon-1", "n": 12}')
    assert "C1" in payload_values('{"turns": [], "customer_id": "C1", "text": "cut sho')  # no longer JSON
    assert {"C1", "anon-1"} <= payload_values('x-1;2026-10-01; "C1" |anon-1\tteleport')
    assert "C1" not in payload_values('{"customer_id": "C10"}') and payload_values(None) == set()


def test_a_reject_gets_the_key_of_its_json_customer_id():
    placeholders = ["undefined"]
    assert reject_customer_key('{"customer_id": " C1 "}', KEY, placeholders) == k("C1")
    assert reject_customer_key('{"customer_id": 42}', KEY, placeholders) == k("42")
    assert reject_customer_key('{"customer_id": "UNDEFINED"}', KEY, placeholders) is None
    assert reject_customer_key("x-1,C1,teleport", KEY, placeholders) is None
    assert reject_customer_key('["C1"]', KEY, placeholders) is None


def staged(source: str, rows: dict[str, list[dict]]) -> IngestResult:
    """An ingest result whose raw rows are staged in temporary tables, as ingest leaves them."""
    result = IngestResult(source, duckdb.connect())
    for table, table_rows in rows.items():
        temp = f"_out_{table.replace('.', '_')}"
        frame = pa.Table.from_pylist(table_rows)  # noqa: F841 - in SQL
        result.con.execute(f"CREATE TEMP TABLE {temp} AS SELECT * FROM frame")
        result.staged[table] = temp
    return result


def ingest_result() -> IngestResult:
    base = {"partition_date": DAY, "ts": MOMENT}
    result = staged(
        "events",
        {
            "raw.events": [
                {**base, "event_id": "e1", "customer_key": k("C1"), "anonymous_key": k("dev1")},
                {**base, "event_id": "e2", "customer_key": None, "anonymous_key": k("dev1")},  # logged out
                {**base, "event_id": "e3", "customer_key": k("C2"), "anonymous_key": k("dev2")},
            ]
        },
    )
    result.rejects = [
        {"partition_date": DAY, "source_line": 4, "customer_key": None, "payload": "x-1,C1,dev9,teleport"},
        {"partition_date": DAY, "source_line": 5, "customer_key": None, "payload": '{"anonymous_id": "dev1"}'},
        {"partition_date": DAY, "source_line": 6, "customer_key": None, "payload": '{"anonymous_id": "dev2"}'},
    ]
    counts = result.counts[DAY]
    counts.read, counts.loaded, counts.quarantined = 6, 3, 3
    return result


def test_ingest_drops_erased_customers_their_devices_and_their_quarantine_rows_and_still_reconciles():
    result = ingest_result()
    dropped = drop_erased(result, ErasedCustomers(frozenset({k("C1")})), KEY)
    assert [r["event_id"] for r in result.rows["raw.events"]] == ["e3"]
    assert [r["source_line"] for r in result.rejects] == [6]
    assert dropped == {DAY: 4}
    counts = result.counts[DAY]
    assert counts.read == counts.loaded + counts.quarantined + counts.duplicates + dropped[DAY]


def test_ingest_drops_a_conversation_of_an_erased_customer_with_its_turns_and_events():
    result = staged(
        "transcripts",
        {
            "raw.conversations": [
                {"partition_date": DAY, "conversation_id": cid, "customer_key": k(customer)}
                for cid, customer in (("c1", "C1"), ("c2", "C2"))
            ],
            "raw.turns": [{"partition_date": DAY, "conversation_id": c, "agent_key": None} for c in ("c1", "c2")],
            "raw.conversation_events": [{"partition_date": DAY, "conversation_id": "c1", "agent_key": None}],
        },
    )
    result.counts[DAY].read = result.counts[DAY].loaded = 2
    assert drop_erased(result, ErasedCustomers(frozenset({k("C1")})), KEY) == {DAY: 1}
    assert {table: [r["conversation_id"] for r in rows] for table, rows in result.rows.items()} == {
        "raw.conversations": ["c2"],
        "raw.turns": ["c2"],
        "raw.conversation_events": [],
    }


@pytest.fixture
def files(tmp_path, monkeypatch):
    """A working file holding two customers (C1 to erase, C2 to keep) in every kind of table, and its published
    file."""
    monkeypatch.setenv("CX_SIGNALS_PSEUDONYM_KEY", KEY.decode())
    files = database_files(tmp_path / "cx.duckdb")
    files.folder.mkdir()
    conversation = {"partition_date": DAY, "started_at": MOMENT, "ended_at": MOMENT, "consent_analytics": True}
    event = {"partition_date": DAY, "ts": MOMENT, "event_type": "page_view"}
    reject = {"partition_date": DAY, "source": "events", "rule": "not_allowed"}
    rows = {
        "raw.conversations": [
            {**conversation, "conversation_id": "c1", "customer_id": "C1", "customer_key": k("C1")},
            {**conversation, "conversation_id": "c2", "customer_id": "C2", "customer_key": k("C2")},
        ],
        "raw.turns": [{"partition_date": DAY, "conversation_id": c, "turn_index": 0} for c in ("c1", "c2")],
        "raw.events": [
            {**event, "event_id": "e1", "customer_id": "C1", "customer_key": k("C1"), "anonymous_key": k("dev1")},
            {**event, "event_id": "e2", "anonymous_id": "dev1", "anonymous_key": k("dev1")},
            {**event, "event_id": "e3", "customer_id": "C2", "customer_key": k("C2"), "anonymous_key": k("dev2")},
        ],
        "signals.turn_sentiment": [
            {"partition_date": DAY, "conversation_id": c, "turn_index": 0} for c in ("c1", "c2")
        ],
        "quarantine.rejects": [
            {**reject, "source_line": 1, "customer_key": k("C1"), "payload": '{"customer_id": "C1"}'},
            {**reject, "source_line": 2, "payload": "x-1;C1;teleport"},
            {**reject, "source_line": 3, "payload": '{"anonymous_id": "dev1", "event_type": "teleport"}'},
            {**reject, "source_line": 4, "customer_key": k("C2"), "payload": '{"customer_id": "C2", "note": "C10"}'},
        ],
    }
    with duckdb.connect(str(files.working)) as con:
        ensure_schema(con)
        for table, table_rows in rows.items():
            replace_rows(con, table, [DAY], table_rows)
    publish(files.working, files.published)
    return files


def values(path, table: str, column: str) -> list:
    with duckdb.connect(str(path), read_only=True) as con:
        return sorted(r[0] for r in con.execute(f"SELECT {column} FROM {table}").fetchall())


def test_erasure_removes_the_customer_from_both_files_and_is_recorded_by_pseudonym(files):
    (erasure,) = erase_customers(files, [" C1 "], 5, "ops")
    assert erasure.customer_key == k("C1") and erasure.device_keys == {k("dev1")}
    for path in (files.working, files.published):
        assert values(path, "raw.conversations", "conversation_id") == ["c2"]
        assert values(path, "raw.turns", "conversation_id") == ["c2"]
        assert values(path, "raw.events", "event_id") == ["e3"]
        assert values(path, "signals.turn_sentiment", "conversation_id") == ["c2"]
        assert values(path, "quarantine.rejects", "source_line") == [4]
    # by customer_key, the CSV cell and the device's JSON id; the published file has no payloads, so by their lines
    assert (
        erasure.rows_removed["working"]["quarantine.rejects"]
        == erasure.rows_removed["published"]["quarantine.rejects"]
        == 3
    )
    with duckdb.connect(str(files.working), read_only=True) as con:
        (row,) = con.execute("SELECT * FROM audit.erasures").fetchall()
        assert erased_customers(con) == ErasedCustomers(frozenset({k("C1")}), frozenset({k("dev1")}))
    assert "C1" not in json.dumps(row, default=str) and "ops" in row
    assert values(files.published, "audit.erasures", "requested_by") == ["ops"]
    assert "erasure" in json.loads((files.models / RETRAIN_MARKER).read_text())["reason"]


def test_erasing_a_customer_not_loaded_yet_still_keeps_them_out_of_later_runs(files):
    (erasure,) = erase_customers(files, ["C7"], 5, "ops")
    assert erasure.rows_removed == {"working": {}, "published": {}}
    with duckdb.connect(str(files.working), read_only=True) as con:
        assert k("C7") in erased_customers(con).customer_keys


def test_erasure_waits_for_a_running_pipeline(files):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from cx_signals.locking import exclusive_lock\n"
            "with exclusive_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(30)",
            str(files.lock("run")),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(LockTimeout):
            erase_customers(files, ["C1"], 0.5, "ops")
        assert time.monotonic() - started >= 0.5
    finally:
        holder.kill()
        holder.wait()
    assert values(files.working, "raw.conversations", "conversation_id") == ["c1", "c2"]
