"""The analysts' file against the working file on a real run: no clear id, no customer who refuses consent (a refusal
covers their earlier conversations too), erasure from both files that a rerun does not undo, retention in a run."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from cx_signals.config import load_config
from cx_signals.ml.artefacts import RETRAIN_MARKER
from cx_signals.paths import database_files
from cx_signals.privacy import pseudonym, pseudonym_key
from dagster_defs.runner import run_pipeline
from tests.e2e.conftest import cx

DAYS = [date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 3)]
SCHEMAS = ("raw", "signals", "metrics", "quarantine", "audit")
# the generator's id formats: customer C000017, agent agt-0804, device anon-21638b529b4a
CLEAR_ID = r"(C\d{6}|agt-\d{4}|anon-[0-9a-f]{12})"


def transcripts(landing: Path) -> dict[Path, list[dict]]:
    return {
        f: [json.loads(line) for line in gzip.open(f, "rt").read().splitlines()]
        for f in sorted((landing / "transcripts").glob("*.jsonl.gz"))
    }


def write_transcripts(files: dict[Path, list[dict]]) -> None:
    for f, records in files.items():
        with gzip.open(f, "wt") as handle:
            handle.write("".join(json.dumps(r) + "\n" for r in records))


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> dict:
    """Generated data where one customer consents on the first day and refuses later, and another (to erase) has
    logged-out events, a quarantined transcript, a quarantined telemetry record of their device and a CSV reject."""
    out = tmp_path_factory.mktemp("private") / "landing"
    assert cx("generate", "--out", str(out), "--days", "3", "--customers", "120", "--seed", "6").returncode == 0
    files = transcripts(out)
    days_of: dict[str, set[Path]] = {}
    for f, records in files.items():
        for r in records:
            days_of.setdefault(r["customer_id"], set()).add(f)
    first = next(iter(files))
    day_events = out / "events" / "events-2026-10-02.parquet"
    frame = pl.read_parquet(day_events)
    logged_in = frame.filter(pl.col("customer_id").is_not_null())
    with_events = set(logged_in["customer_id"])
    refuser = next(c for c, fs in sorted(days_of.items()) if len(fs) >= 2 and first in fs and c in with_events)
    erased = next(c for c in sorted(days_of) if c != refuser and c in with_events)
    for f, records in files.items():
        for r in records:
            if r["customer_id"] == refuser:
                r["consent_analytics"] = f == first
    second = list(files)[1]
    files[second].append(
        {
            "conversation_id": "bad-1",
            "customer_id": erased,
            "channel": "pigeon",
            "started_at": "2026-10-02T10:00:00Z",
            "ended_at": "2026-10-02T10:05:00Z",
            "consent_analytics": True,
            "turns": [],
        }
    )
    write_transcripts(files)
    device = logged_in.filter(pl.col("customer_id") == erased)["anonymous_id"][0]
    logged_out = (
        frame.filter(pl.col("anonymous_id") == device)
        .head(2)
        .with_columns(pl.lit(None, pl.String).alias("customer_id"), (pl.col("event_id") + "-out").alias("event_id"))
    )
    assert logged_out.height == 2
    pl.concat([frame, logged_out]).write_parquet(day_events)
    with (out / "telemetry" / "telemetry-2026-10-02.jsonl").open("a") as handle:
        bad = {"ts": "2026-10-02T11:00:00Z", "anonymous_id": device, "app": "fridge", "kind": "error", "name": "E"}
        handle.write(json.dumps(bad) + "\n")
    (out / "events" / "extra-2026-10-02.csv").write_text(
        "event_id,ts,customer_id,anonymous_id,event_type\n"
        f"x-1,2026-10-02T12:00:00Z,{erased},{device},teleport\n"
        "x-2,2026-10-02T12:00:00Z,C000001,anon-000000000000,teleport\n"
    )
    return {"path": out, "refuser": refuser, "erased": erased, "device": device}


@pytest.fixture(scope="module")
def database(landing) -> Path:
    db = landing["path"].parent / "db" / "cx.duckdb"
    result = cx("run", "--landing", str(landing["path"]), "--db", str(db))
    assert result.returncode == 0, result.stdout + result.stderr
    return db


def text_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT '\"' || schema_name || '\".\"' || table_name || '\"', column_name FROM duckdb_columns() "
        "WHERE schema_name IN (SELECT unnest(?)) AND data_type IN ('VARCHAR', 'JSON')",
        [list(SCHEMAS)],
    ).fetchall()


def occurrences(path: Path, needles: list[str]) -> list[tuple[str, str]]:
    """(table.column, needle) for every needle found inside any text column of any table of `path`."""
    with duckdb.connect(str(path), read_only=True) as con:
        return [
            (f"{table}.{column}", needle)
            for table, column in text_columns(con)
            for needle in needles
            if con.execute(f'SELECT count(*) FROM {table} WHERE contains("{column}", ?)', [needle]).fetchone()[0]
        ]


def customer_needles(files, landing: dict, customer: str) -> list[str]:
    """The customer's clear id and key, their devices' clear ids and keys, and their conversation ids."""
    key = pseudonym_key(files.key_file)
    with duckdb.connect(str(files.working), read_only=True) as con:
        devices = {
            r[0]
            for r in con.execute(
                "SELECT anonymous_id FROM raw.events WHERE customer_id = ? UNION "
                "SELECT anonymous_id FROM raw.telemetry WHERE customer_id = ?",
                [customer, customer],
            ).fetchall()
        }
        conversations = [
            r[0]
            for r in con.execute(
                "SELECT conversation_id FROM raw.conversations WHERE customer_id = ?", [customer]
            ).fetchall()
        ]
    assert devices and conversations
    ids = [customer, *sorted(devices)]
    return [*ids, *(pseudonym(i, key) for i in ids), *conversations]


def test_the_published_file_holds_no_clear_customer_agent_or_device_id(database, landing):
    files = database_files(database)
    with duckdb.connect(str(files.working), read_only=True) as con:
        clear = [
            r[0]
            for r in con.execute(
                "SELECT customer_id FROM raw.conversations UNION SELECT agent_id FROM raw.turns "
                "UNION SELECT anonymous_id FROM raw.events UNION SELECT customer_id FROM raw.events"
            ).fetchall()
            if r[0]
        ]
        assert any(i.startswith("agt-") for i in clear) and any(i.startswith("anon-") for i in clear)
    with duckdb.connect(str(database), read_only=True) as con:
        columns = text_columns(con)
        leaks = [
            f"{table}.{column}"
            for table, column in columns
            if con.execute(
                f'SELECT count(*) FROM {table} WHERE "{column}" IN (SELECT unnest(?)) '
                f"OR regexp_matches(\"{column}\", '{CLEAR_ID}')",
                [clear],
            ).fetchone()[0]
        ]
        raw_columns = {
            f"{t}.{c}"
            for t, c in con.execute(
                "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name IN ('raw', 'quarantine')"
            ).fetchall()
        }
    assert leaks == []
    assert {"conversations.customer_key", "turns.agent_key", "events.anonymous_key"} <= raw_columns
    assert not {"conversations.customer_id", "turns.agent_id", "events.anonymous_id", "rejects.payload"} & raw_columns


def test_the_working_file_keeps_the_clear_records_for_operations(database, landing):
    files = database_files(database)
    with duckdb.connect(str(files.working), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.turns WHERE agent_id LIKE 'agt-%'").fetchone()[0] > 0
        assert con.execute("SELECT count(*) FROM quarantine.rejects WHERE payload IS NOT NULL").fetchone()[0] >= 3
        refuser_rows = con.execute(
            "SELECT consent_analytics FROM raw.conversations WHERE customer_id = ? ORDER BY started_at",
            [landing["refuser"]],
        ).fetchall()
    assert refuser_rows[0] == (True,) and (False,) in refuser_rows  # consented first, refused later


def test_a_refusal_covers_every_record_of_the_customer_in_the_published_file(database, landing):
    needles = customer_needles(database_files(database), landing, landing["refuser"])
    assert occurrences(database, needles) == []


def test_a_refusal_covers_the_conversations_before_it_in_signals_and_metrics(database, landing):
    files = database_files(database)
    with duckdb.connect(str(files.working), read_only=True) as con:
        rows = con.execute(
            "SELECT customer_key, conversation_id FROM raw.conversations WHERE customer_id = ?", [landing["refuser"]]
        ).fetchall()
    needles = sorted({key for key, _ in rows} | {conversation for _, conversation in rows})
    found = [hit for hit in occurrences(files.working, needles) if not hit[0].startswith('"raw"')]
    assert found == []


def test_the_published_file_keeps_every_comment(database):
    with duckdb.connect(str(database), read_only=True) as con:
        uncommented = con.execute(
            "SELECT table_name || '.' || column_name FROM duckdb_columns() "
            "WHERE schema_name IN (SELECT unnest(?)) AND coalesce(comment, '') = ''",
            [list(SCHEMAS)],
        ).fetchall()
        tables = con.execute(
            "SELECT count(*) FROM duckdb_tables() "
            "WHERE schema_name IN (SELECT unnest(?)) AND coalesce(comment, '') = ''",
            [list(SCHEMAS)],
        ).fetchone()[0]
    assert uncommented == [] and tables == 0


@pytest.fixture(scope="module")
def erased(database, landing, tmp_path_factory) -> tuple[Path, list[str], str]:
    """A copy of the run's folder with the customer erased through the CLI: the published path, the needles that
    must be gone and the command's output."""
    folder = tmp_path_factory.mktemp("erased")
    shutil.copytree(database.parent, folder, dirs_exist_ok=True)
    db = folder / database.name
    needles = customer_needles(database_files(db), landing, landing["erased"])
    assert occurrences(database_files(db).working, needles)
    result = cx("erase", "--db", str(db), "--customer-id", landing["erased"])
    assert result.returncode == 0, result.stdout + result.stderr
    return db, needles, result.stdout


def erasure_ledger_only(hits: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Hits other than the key columns of audit.erasures, which keep erased customers out of later runs."""
    ledger = ('"audit"."erasures".customer_key', '"audit"."erasures".anonymous_keys')
    return [hit for hit in hits if hit[0] not in ledger]


def test_erasure_leaves_nothing_of_the_customer_in_either_file(erased, landing):
    db, needles, output = erased
    files = database_files(db)
    assert occurrences(db, needles) == []
    assert erasure_ledger_only(occurrences(files.working, needles)) == []
    with duckdb.connect(str(files.working), read_only=True) as con:
        payloads = [r[0] for r in con.execute("SELECT payload FROM quarantine.rejects").fetchall()]
    assert payloads and not any(landing["erased"] in p or landing["device"] in p for p in payloads)
    assert "quarantine.rejects" in output and landing["erased"] not in output


def test_erasure_is_recorded_by_pseudonym_only_and_marks_the_models(erased, landing):
    db, _, _ = erased
    files = database_files(db)
    key = pseudonym(landing["erased"], pseudonym_key(files.key_file))
    with duckdb.connect(str(files.working), read_only=True) as con:
        (customer_key, removed, by) = con.execute(
            "SELECT customer_key, rows_removed, requested_by FROM audit.erasures"
        ).fetchone()
    assert customer_key == key and by
    removed = json.loads(removed)
    assert removed["working"]["raw.conversations"] == removed["published"]["raw.conversations"] > 0
    assert removed["working"]["quarantine.rejects"] == 3  # the transcript, the device's telemetry, the CSV row
    with duckdb.connect(str(db), read_only=True) as con:
        assert [r[0] for r in con.execute("DESCRIBE audit.erasures").fetchall()] == [
            "erased_at",
            "rows_removed",
            "requested_by",
        ]
    marker = json.loads((files.models / RETRAIN_MARKER).read_text())
    assert "erasure" in marker["reason"]


def test_a_rerun_does_not_bring_an_erased_customer_back_and_retention_runs(erased, landing):
    db, needles, _ = erased
    files = database_files(db)
    # deletes the first day
    config = load_config().merged({"retention": {"metrics": (datetime.now(UTC).date() - DAYS[1]).days}})
    outcome = run_pipeline(landing["path"], db, DAYS, config)
    assert outcome.success, outcome.error
    assert outcome.failed_checks == []  # counts reconcile with the erased records
    assert occurrences(db, needles) == []
    assert erasure_ledger_only(occurrences(files.working, needles)) == []
    with duckdb.connect(str(files.working), read_only=True) as con:
        erased_records = con.execute(
            "SELECT asset, sum(records_erased) FROM audit.runs WHERE records_erased > 0 GROUP BY ALL"
        ).fetchall()
        retention = con.execute(
            "SELECT asset, rows_removed, note FROM audit.runs WHERE asset LIKE 'retention:%'"
        ).fetchall()
    assert {"raw.conversations", "raw.events", "raw.telemetry"} <= {asset for asset, _ in erased_records}
    assert {"retention:metrics.contact_outcomes", "retention:metrics.daily_outcomes"} <= {r[0] for r in retention}
    assert all(rows > 0 and "retention.metrics" in note for _, rows, note in retention)
    # the run's own "today" decides the first day kept: a run that crosses midnight (UTC) keeps one day fewer
    first_kept = {date.fromisoformat(note.rsplit("kept from ", 1)[1].rstrip(")")) for _, _, note in retention}
    assert len(first_kept) == 1 and first_kept <= {DAYS[1], DAYS[2]}
    for path in (files.working, db):
        with duckdb.connect(str(path), read_only=True) as con:
            assert con.execute("SELECT min(partition_date) FROM metrics.contact_outcomes").fetchone()[0] in first_kept
            assert con.execute("SELECT min(partition_date) FROM signals.conversation_signals").fetchone()[0] == DAYS[0]
