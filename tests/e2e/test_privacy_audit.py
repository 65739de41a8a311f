"""Privacy and audit guarantees on a full run: no planted PII anywhere, pseudonyms only, consent respected."""

import hashlib
import hmac
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from cx_signals.paths import database_files
from cx_signals.privacy import PSEUDONYM_HEX_CHARS, pseudonym_key

PRIVATE_SCHEMAS = ("signals", "metrics")


def text_columns(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[tuple[str, str, str]]:
    return con.execute(
        "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
        "WHERE schema_name IN (SELECT unnest(?)) AND data_type IN ('VARCHAR', 'JSON')",
        [list(schemas)],
    ).fetchall()


def test_no_planted_pii_string_reaches_any_table(landing, database):
    planted = pl.read_parquet(landing / "_truth" / "pii.parquet")["value"].to_list()
    assert len(planted) > 5
    with duckdb.connect(str(database), read_only=True) as con:
        columns = text_columns(con, ("raw", "signals", "metrics", "quarantine", "audit"))
        leaks = [
            (f"{schema}.{table}.{column}", value)
            for schema, table, column in columns
            for value in planted
            if con.execute(
                f'SELECT count(*) FROM "{schema}"."{table}" WHERE contains("{column}", ?)', [value]
            ).fetchone()[0]
        ]
    assert leaks == []
    # the working file also holds the refusing customers' turns, whose PII was redacted just the same
    with duckdb.connect(str(database_files(database).working), read_only=True) as con:
        redacted_turns = con.execute("SELECT sum(pii_redactions) FROM raw.turns").fetchone()[0]
    assert redacted_turns >= len(planted)


def test_signals_and_metrics_hold_keyed_pseudonyms_never_raw_ids(landing, database):
    key = pseudonym_key(database_files(database).key_file)
    truth = pl.read_parquet(landing / "_truth" / "conversations.parquet")
    customer_ids = truth["customer_id"].unique().to_list()
    with duckdb.connect(str(database), read_only=True) as con:
        for schema, table, column in text_columns(con, PRIVATE_SCHEMAS):
            hits = con.execute(
                f'SELECT count(*) FROM "{schema}"."{table}" WHERE "{column}" IN (SELECT unnest(?))', [customer_ids]
            ).fetchone()[0]
            assert hits == 0, f"{schema}.{table}.{column} holds raw customer ids"
        published_keys = {r[0] for r in con.execute("SELECT customer_key FROM metrics.contact_outcomes").fetchall()}
    with duckdb.connect(str(database_files(database).working), read_only=True) as con:
        sample_id, sample_key = con.execute(
            "SELECT customer_id, customer_key FROM raw.conversations WHERE customer_key NOT IN "
            "(SELECT customer_key FROM main.refused_customers) LIMIT 1"
        ).fetchone()
    assert sample_key in published_keys
    expected = hmac.new(key, sample_id.encode(), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX_CHARS]
    assert sample_key == expected


def test_customers_without_consent_never_appear_in_signals_or_metrics(landing, database):
    with duckdb.connect(str(database_files(database).working), read_only=True) as con:
        refused = [r[0] for r in con.execute("SELECT customer_key FROM main.refused_customers").fetchall()]
    assert refused
    with duckdb.connect(str(database), read_only=True) as con:
        for schema, table, column in text_columns(con, PRIVATE_SCHEMAS):
            if column != "customer_key":
                continue
            hits = con.execute(
                f'SELECT count(*) FROM "{schema}"."{table}" WHERE customer_key IN (SELECT unnest(?))', [refused]
            ).fetchone()[0]
            assert hits == 0, f"{schema}.{table} holds customers without analytics consent"


def test_audit_records_inputs_with_hashes_rows_and_code_version(landing, database):
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "SELECT partition_date, inputs, records_read, rows_written, records_quarantined, duplicates_removed, "
            "code_version FROM audit.runs WHERE asset = 'raw.events' ORDER BY partition_date"
        ).fetchall()
        assets = {r[0] for r in con.execute("SELECT DISTINCT asset FROM audit.runs").fetchall()}
    assert {"raw.conversations", "signals.conversation_signals", "metrics.contact_outcomes"} <= assets
    assert len(rows) == 12
    for day, inputs, read, written, quarantined, duplicates, version in rows:
        files = json.loads(inputs)
        assert files and all(len(f["sha256"]) == 64 for f in files)
        on_disk = {f["file"]: hashlib.sha256((landing / f["file"]).read_bytes()).hexdigest() for f in files}
        assert all(on_disk[f["file"]] == f["sha256"] for f in files)
        assert sum(f["rows"] for f in files) == read == written + quarantined + duplicates, day
        assert version.startswith("0.1.0")


def offline_prefix() -> list[str]:
    """`unshare -n` (a namespace with no network) when this machine allows it, else nothing."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True, check=False).returncode == 0:
        return [unshare, "-n"]
    return []


def test_hostile_text_is_stored_as_data_not_executed_in_a_run_without_network(tmp_path):
    landing = tmp_path / "landing"
    (landing / "telemetry").mkdir(parents=True)
    hostile = "x'); DROP TABLE raw.events; -- $start_date {0} \\\" ../../etc/passwd"
    (landing / "telemetry" / "t-2026-10-01.jsonl").write_text(
        json.dumps(
            {
                "ts": "2026-10-01T10:00:00Z",
                "anonymous_id": hostile,
                "app": "web",
                "kind": "error",
                "name": hostile,
                "message": hostile,
            }
        )
        + "\n"
    )
    db = tmp_path / "cx.duckdb"
    offline = offline_prefix()
    result = subprocess.run(
        [
            *offline,
            str(Path(sys.executable).with_name("cx-signals")),
            "run",
            "--landing",
            str(landing),
            "--db",
            str(db),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT name FROM raw.telemetry").fetchone()[0] == hostile
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'events'").fetchone()[0] == 1
    if not offline:
        pytest.skip("ran with network: `unshare -n` is not permitted here, so offline operation was not proven")
