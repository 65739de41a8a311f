"""The DuckLake storage mode: a PostgreSQL catalog on loopback, Parquet data, two writers at once and a reader.

Needs PostgreSQL's server binaries (initdb, pg_ctl, createdb: `apt-get install postgresql`, as .ci/run does); the
server runs as a non-root user, since initdb refuses root.
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
import yaml
from dagster_duckdb import DuckDBResource

from cx_signals.config import ConfigError, load_config
from cx_signals.db import ensure_schema, replace_rows
from cx_signals.erasure import erase_customers
from cx_signals.paths import database_files
from cx_signals.privacy import pseudonym
from cx_signals.storage import Storage, connect_lake, extension_file
from dagster_defs.database_resources import build_resources

HERE = Path(__file__).resolve().parent
DAYS = ("2026-10-01", "2026-10-02")
_SERVER_TOOLS = ("initdb", "pg_ctl", "createdb")


def server_bin() -> Path | None:
    """The folder holding PostgreSQL's server tools: beside `initdb` on the PATH or in /usr/local/bin (followed to
    its real folder), else the newest /usr/lib/postgresql/<version>/bin (Debian's `postgresql` package)."""
    found = shutil.which("initdb") or shutil.which("initdb", path="/usr/local/bin")
    candidates = [Path(found).resolve().parent] if found else []
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True)
    for folder in [*candidates, *versions]:
        if all((folder / tool).is_file() for tool in _SERVER_TOOLS):
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def postgres() -> Iterator[Callable[[], str]]:
    """A PostgreSQL server on 127.0.0.1 in a temporary folder; a function that creates an empty catalog database
    and returns its DuckLake catalog string. As root, the server runs as `postgres` (or `nobody`)."""
    tools = server_bin()
    if tools is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl, createdb) in /usr/lib/postgresql/*/bin or PATH")
    home = Path(tempfile.mkdtemp(prefix="cx-pg-"))
    as_user: dict = {}
    if os.geteuid() == 0:
        name = next(n for n in ("postgres", "nobody") if _user_exists(n))
        account = pwd.getpwnam(name)
        os.chown(home, account.pw_uid, account.pw_gid)
        as_user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    port = _free_port()

    def run(*command: str) -> None:
        subprocess.run(command, cwd=home, check=True, capture_output=True, timeout=120, **as_user)

    data = home / "data"
    run(str(tools / "initdb"), "-D", str(data), "-A", "trust", "-U", "cx", "-E", "UTF8", "--no-sync")
    options = f"-h 127.0.0.1 -p {port} -k {home} -c fsync=off -c max_connections=50"
    run(str(tools / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(home / "server.log"), "-w", "start")
    databases = itertools.count()

    def new_catalog() -> str:
        name = f"cx_lake_{next(databases)}"
        run(str(tools / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "cx", name)
        return f"postgres:dbname={name} host=127.0.0.1 port={port} user=cx"

    try:
        yield new_catalog
    finally:
        run(str(tools / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(home, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _lake_config(folder: Path, catalog: str) -> Path:
    path = folder / "lake.yml"
    storage = {"mode": "ducklake", "catalog": catalog, "data_path": str(folder / "lake-data")}
    path.write_text(yaml.safe_dump({"storage": storage}), encoding="utf-8")
    return path


def _records_per_day(landing: Path) -> dict[str, Counter]:
    """Per source, the records of each UTC day, counted from the landing files themselves."""
    conversations = Counter()
    for path in (landing / "transcripts").glob("*.jsonl.gz"):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            conversations.update(json.loads(line)["started_at"][:10] for line in handle if line.strip())
    telemetry = Counter()
    for path in (landing / "telemetry").glob("*.jsonl"):
        telemetry.update(json.loads(line)["ts"][:10] for line in path.read_text().splitlines() if line.strip())
    events = Counter()
    for path in (landing / "events").glob("*.parquet"):
        events.update(d.isoformat() for d in pl.read_parquet(path)["ts"].dt.date().to_list())
    return {"raw.conversations": conversations, "raw.telemetry": telemetry, "raw.events": events}


def _python(*arguments: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(HERE / "lake_processes.py"), *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _result(process: subprocess.Popen, timeout: float = 600) -> dict:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def _write_both_days(tmp_path: Path, landing: Path, config: Path, round_name: str) -> tuple[list[dict], dict]:
    """Two writers (one per day) at once while a reader queries the lake; their reports."""
    barrier, stop = tmp_path / f"barrier-{round_name}", tmp_path / f"stop-{round_name}"
    barrier.mkdir()
    reader = _python("reader", str(config), str(stop))
    writers = [
        _python("writer", str(tmp_path / "cx.duckdb"), str(landing), str(config), DAYS[0], day, str(barrier), "2")
        for day in DAYS
    ]
    try:
        reports = [_result(w) for w in writers]
    finally:
        stop.touch()
    return reports, _result(reader)


def _assert_overlap_and_reads(reports: list[dict], reads: dict) -> None:
    for report in reports:
        assert report["success"], f"{report['day']}: {report['failures']}"
        assert report["checks"] and all(report["checks"]), report  # counts_reconcile on both days
    both_running = (max(r["start"] for r in reports), min(r["end"] for r in reports))
    assert both_running[0] < both_running[1], f"the writers did not overlap: {reports}"
    first_ok = next(i for i, r in enumerate(reads["reads"]) if "rows" in r)
    after = reads["reads"][first_ok:]
    assert [r for r in after if "error" in r] == [], "a read failed once the lake existed"
    during = [r for r in after if both_running[0] <= r["at"] <= both_running[1]]
    assert during, f"no read while both writers ran ({both_running}): {reads['reads'][-5:]}"
    retried = sorted(
        (r["day"], step) for r in reports for step, events in r["steps"].items() if "STEP_UP_FOR_RETRY" in events
    )
    windows = [(r["day"], _stamp(r["start"]), _stamp(r["end"])) for r in reports]
    print("writers", windows, "reads while both ran:", len(during), "steps retried after a conflict:", retried)


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%H:%M:%S.%f")[:-3]


def _lake_counts(config: Path) -> dict[str, dict[str, int]]:
    con = connect_lake(Storage.from_config(load_config(config)), read_only=True)
    try:
        return {
            table: dict(con.execute(f"SELECT partition_date::VARCHAR, count(*) FROM {table} GROUP BY ALL").fetchall())
            for table in ("raw.conversations", "raw.telemetry", "raw.events", "signals.session_friction")
        }
    finally:
        con.close()


@pytest.mark.slow
def test_two_writers_fill_one_lake_at_once_while_a_reader_reads(postgres, tmp_path):
    landing = tmp_path / "L"
    cli = Path(sys.executable).with_name("cx-signals")
    generated = subprocess.run(
        [str(cli), "generate", "--out", str(landing), "--days", "2", "--customers", "300", "--seed", "5"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert generated.returncode == 0, generated.stderr
    config = _lake_config(tmp_path, postgres())
    expected = _records_per_day(landing)

    reports, reads = _write_both_days(tmp_path, landing, config, "first")
    _assert_overlap_and_reads(reports, reads)
    counts = _lake_counts(config)
    for table, per_day in expected.items():
        assert {day: counts[table].get(day, 0) for day in DAYS} == {day: per_day[day] for day in DAYS}, table
    assert all(counts["signals.session_friction"].get(day, 0) > 0 for day in DAYS)

    # again, at once: each writer now replaces rows the other's tables hold, which DuckLake reports as a conflict
    # when they commit together; the step runs again on the new snapshot, and nothing is doubled or lost
    reports, reads = _write_both_days(tmp_path, landing, config, "again")
    _assert_overlap_and_reads(reports, reads)
    assert _lake_counts(config) == counts


def test_the_same_schema_builds_on_a_lake_partitioned_by_day(postgres, tmp_path):
    """Every contract table is created (no constraint DuckLake lacks), twice without work, and partitioned by day."""
    storage = Storage("ducklake", postgres(), str(tmp_path / "lake-data"))
    con = connect_lake(storage)
    try:
        ensure_schema(con)
        ensure_schema(con)
        partitioned = con.execute(
            "SELECT count(DISTINCT table_id) FROM __ducklake_metadata_lake.ducklake_partition_info"
        ).fetchone()[0]
        tables = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'lake'").fetchone()[0]
        columns = con.execute(
            "SELECT count(*) FROM duckdb_columns() WHERE database_name = 'lake' AND column_name = 'partition_date'"
            " AND table_name IN (SELECT table_name FROM duckdb_tables() WHERE database_name = 'lake')"
        ).fetchone()[0]
    finally:
        con.close()
    assert tables >= 20
    assert partitioned == columns


def test_a_step_whose_commit_conflicts_with_another_writer_runs_again(postgres, tmp_path):
    """The resource turns DuckLake's conflict (rows deleted from a table another writer inserted into meanwhile) into
    a retry of the step, which then commits on the new snapshot."""
    config = load_config(_lake_config(tmp_path, postgres()))
    resources = build_resources(str(tmp_path / "cx.duckdb"), str(tmp_path), config)
    storage = Storage.from_config(config)
    attempts = []

    @dg.asset
    def replace_day(duckdb: DuckDBResource) -> None:
        with duckdb.get_connection() as con:
            con.execute("CREATE TABLE IF NOT EXISTS main.scratch (day DATE, value BIGINT)")
            con.execute("INSERT INTO main.scratch VALUES ('2026-10-01', 0)")
            con.execute("BEGIN TRANSACTION")
            con.execute("DELETE FROM main.scratch WHERE day = '2026-10-01'")
            con.execute("INSERT INTO main.scratch VALUES ('2026-10-01', ?)", [len(attempts) + 1])
            if not attempts:  # another writer commits into the table meanwhile, once
                with connect_lake(storage) as other:
                    other.execute("INSERT INTO main.scratch VALUES ('2026-10-02', 9)")
            attempts.append(datetime.now(UTC))
            con.execute("COMMIT")

    result = dg.materialize([replace_day], resources=resources, raise_on_error=False)
    assert result.success
    assert len(attempts) == 2
    with connect_lake(storage, read_only=True) as con:
        rows = con.execute("SELECT day::VARCHAR, value FROM main.scratch ORDER BY ALL").fetchall()
    assert rows == [("2026-10-01", 2), ("2026-10-02", 9)]


def test_the_extensions_load_from_their_packages_without_downloads():
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    for package, name in (
        ("duckdb_extension_ducklake", "ducklake"),
        ("duckdb_extension_postgres_scanner", "postgres_scanner"),
    ):
        con.execute(f"LOAD '{extension_file(package, name)}'")
    loaded = {row[0] for row in con.execute("SELECT extension_name FROM duckdb_extensions() WHERE loaded").fetchall()}
    assert {"ducklake", "postgres_scanner"} <= loaded


def test_a_lake_needs_a_postgres_catalog_and_a_data_path(tmp_path):
    def config(storage: dict) -> Path:
        path = tmp_path / "c.yml"
        path.write_text(yaml.safe_dump({"storage": storage}), encoding="utf-8")
        return path

    assert not Storage.from_config(load_config()).lake
    with pytest.raises(ConfigError, match=r"storage\.mode"):
        load_config(config({"mode": "lakehouse"}))
    with pytest.raises(ConfigError, match=r"storage\.catalog"):
        load_config(config({"mode": "ducklake", "catalog": "sqlite:lake.db", "data_path": "x"}))
    with pytest.raises(ConfigError, match=r"storage\.data_path"):
        load_config(config({"mode": "ducklake", "catalog": "postgres:dbname=x"}))
    lake = Storage.from_config(
        load_config(config({"mode": "ducklake", "catalog": "postgres:dbname=x", "data_path": "d"}))
    )
    assert lake.lake and lake.catalog == "postgres:dbname=x"


def test_erasure_removes_the_customer_from_the_lake(postgres, tmp_path, monkeypatch):
    """`cx-signals erase` on a lake: the customer's rows leave the lake's tables and the erasure is recorded there."""
    monkeypatch.setenv("CX_SIGNALS_PSEUDONYM_KEY", "lake-key")
    key = b"lake-key"
    storage = Storage("ducklake", postgres(), str(tmp_path / "lake-data"))
    day, moment = datetime(2026, 10, 1).date(), datetime(2026, 10, 1, 12)
    conversation = {"partition_date": day, "started_at": moment, "ended_at": moment, "consent_analytics": True}
    con = connect_lake(storage)
    try:
        ensure_schema(con)
        rows = [
            {**conversation, "conversation_id": c, "customer_id": c.upper(), "customer_key": pseudonym(c.upper(), key)}
            for c in ("c1", "c2")
        ]
        replace_rows(con, "raw.conversations", [day], rows)
    finally:
        con.close()
    files = database_files(tmp_path / "cx.duckdb")
    (erasure,) = erase_customers(files, ["C1"], 5, "ops", storage)
    assert erasure.rows_removed["working"]["raw.conversations"] == 1
    con = connect_lake(storage, read_only=True)
    try:
        assert con.execute("SELECT conversation_id FROM raw.conversations").fetchall() == [("c2",)]
        assert con.execute("SELECT customer_key FROM audit.erasures").fetchall() == [(pseudonym("C1", key),)]
    finally:
        con.close()
    assert not files.working.exists()  # nothing went to a local working file
