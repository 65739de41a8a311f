"""Runs a user can trust on data the project did not shape: no hang, any history, loud bad input, early errors,
documented exit codes, and a short error instead of a Dagster traceback."""

import csv
import gzip
import json
import time
from pathlib import Path

import duckdb
import pytest

from cx_signals.paths import database_files
from tests.e2e.conftest import cx

pytestmark = pytest.mark.slow


def generate(out: Path, start: str, days: int = 2, customers: int = 60, seed: int = 7) -> Path:
    result = cx(
        "generate",
        "--out",
        str(out),
        "--days",
        str(days),
        "--customers",
        str(customers),
        "--start",
        start,
        "--seed",
        str(seed),
    )
    assert result.returncode == 0, result.stderr
    return out


def days_in(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [
            str(r[0])
            for r in con.execute("SELECT DISTINCT partition_date FROM raw.conversations ORDER BY 1").fetchall()
        ]


def test_a_configured_partition_start_before_the_data_neither_hangs_nor_fails(tmp_path):
    # the original hang: partitions.start_date 2023-01-01 on data from 2023-06 never reached Dagster, steps failed
    # and the next step waited forever on a lock its own process held
    landing = generate(tmp_path / "landing", "2023-06-10")
    config = tmp_path / "my.yml"
    config.write_text('partitions: {start_date: "2023-01-01"}\n')
    started = time.monotonic()
    result = cx("run", "--landing", str(landing), "--db", str(tmp_path / "cx.duckdb"), "--config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert time.monotonic() - started < 300
    assert days_in(tmp_path / "cx.duckdb") == ["2023-06-10", "2023-06-11"]


def test_history_from_2011_and_2017_loads_and_runs_end_to_end(tmp_path):
    landing = generate(tmp_path / "landing", "2011-03-14")
    later = generate(tmp_path / "later", "2017-10-30", seed=12)
    for file in later.glob("*/*-2017-*"):
        file.rename(landing / file.parent.name / file.name)
    for file in (landing / "transcripts").glob("*-2017-*.jsonl.gz"):  # the generator numbers conversations from 1
        records = [json.loads(line) for line in gzip.decompress(file.read_bytes()).decode().splitlines()]
        with gzip.open(file, "wt") as out:
            out.writelines(json.dumps({**r, "conversation_id": "2017-" + r["conversation_id"]}) + "\n" for r in records)
    result = cx("run", "--landing", str(landing), "--db", str(tmp_path / "cx.duckdb"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "too_old_timestamp" not in result.stdout
    # six years apart: two Dagster runs, each planning only its own days
    assert days_in(tmp_path / "cx.duckdb") == ["2011-03-14", "2011-03-15", "2017-10-30", "2017-10-31"]
    with duckdb.connect(str(tmp_path / "cx.duckdb"), read_only=True) as con:
        outcomes = con.execute("SELECT year(started_at), count(*) FROM metrics.contact_outcomes GROUP BY 1 ORDER BY 1")
        assert [year for year, n in outcomes.fetchall() if n > 0] == [2011, 2017]


def test_a_source_whose_every_record_is_quarantined_fails_loudly_with_exit_3(tmp_path):
    landing = generate(tmp_path / "landing", "2026-10-01", days=1)
    # a support export in its own layout: every record lacks the contract's required fields
    with (landing / "transcripts" / "export-2026-10-01.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["tweet_id", "customer_id", "inbound", "created_at", "text"])
        for n in range(50):
            writer.writerow([n, f"user{n}", "True", "Tue Oct 31 22:10:47 +0000 2017", "hello"])
    # and one without any field the contract knows: quarantined as a file, which counts towards the share too
    (landing / "telemetry" / "export-2026-10-01.csv").write_text("a,b\n1,2\n")
    for generated in (landing / "transcripts").glob("transcripts-*"):
        generated.unlink()
    result = cx("run", "--landing", str(landing), "--db", str(tmp_path / "cx.duckdb"))
    assert result.returncode == 3, result.stdout + result.stderr
    printed = " ".join(result.stdout.split())  # the summary wraps to the terminal's width
    assert "missing_required" in printed
    assert "the contract requires: conversation_id" in printed
    assert "transcripts/export-2026-10-01.csv line 2" in printed
    assert "no header row" in printed and "1 files" in printed
    assert "ingest.max_quarantine_share" in result.stderr


def test_a_config_value_of_the_wrong_type_is_refused_before_any_work(tmp_path):
    config = tmp_path / "my.yml"
    config.write_text('outcomes: {repeat_window_days: "three"}\n')
    started = time.monotonic()
    result = cx(
        "run", "--landing", str(tmp_path / "nowhere"), "--db", str(tmp_path / "cx.duckdb"), "--config", str(config)
    )
    assert result.returncode == 2
    assert "outcomes.repeat_window_days" in result.stderr and "'three'" in result.stderr
    assert time.monotonic() - started < 30
    assert not (tmp_path / "cx.duckdb").exists()


def test_an_unwritable_database_folder_is_refused_before_any_work(tmp_path):
    landing = generate(tmp_path / "landing", "2026-10-01", days=1)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = cx("run", "--landing", str(landing), "--db", str(blocker / "cx.duckdb"))
    assert result.returncode == 2
    assert "cannot write the database folder" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) <= 3


def test_a_core_failure_prints_a_short_error_keeps_the_published_file_and_logs_the_trace(tmp_path):
    landing = generate(tmp_path / "landing", "2026-10-01", days=1)
    db = tmp_path / "cx.duckdb"
    assert cx("run", "--landing", str(landing), "--db", str(db)).returncode == 0
    published = db.read_bytes()
    working = database_files(db).working
    working.write_bytes(b"this is not a DuckDB file" * 100)
    result = cx("run", "--landing", str(landing), "--db", str(db))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "the published database was left as it was" in result.stderr
    assert "what to do:" in result.stderr and "full trace:" in result.stderr
    log_file = Path(result.stderr.split("full trace:")[1].split()[0])
    trace = log_file.read_text()
    assert "full trace of the failure of ingest_transcripts" in trace and "not a valid DuckDB database file" in trace
    assert db.read_bytes() == published
