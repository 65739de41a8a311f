"""Operating guarantees with real processes: idempotent reruns, SIGKILL mid-run, concurrent runs and readers."""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from cx_signals.db import table_checksums

CX = str(Path(sys.executable).with_name("cx-signals"))
KEY_ENV = {**os.environ, "CX_SIGNALS_PSEUDONYM_KEY": "test-key-shared-by-every-run"}


def start_run(landing: Path, db: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [CX, "run", "--landing", str(landing), "--db", str(db)],
        env=KEY_ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def run(landing: Path, db: Path) -> float:
    started = time.monotonic()
    process = start_run(landing, db)
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, out + err
    return time.monotonic() - started


def checksums(db: Path) -> dict[str, str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return table_checksums(con)


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("safety") / "landing"
    subprocess.run(
        [CX, "generate", "--out", str(out), "--days", "3", "--customers", "150", "--seed", "5"],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="module")
def reference(landing, tmp_path_factory) -> tuple[Path, dict[str, str], float]:
    """A clean run over the whole landing folder: its folder, table checksums and duration in seconds."""
    db = tmp_path_factory.mktemp("reference") / "cx.duckdb"
    seconds = run(landing, db)
    return db.parent, checksums(db), seconds


@pytest.fixture(scope="module")
def previous(landing, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A database published from the first day's transcripts only: the state a crashed run must leave."""
    first_day = tmp_path_factory.mktemp("previous_landing")
    (first_day / "transcripts").mkdir()
    first_file = sorted((landing / "transcripts").iterdir())[0]
    (first_day / "transcripts" / first_file.name).write_bytes(first_file.read_bytes())
    db = tmp_path_factory.mktemp("previous") / "cx.duckdb"
    run(first_day, db)
    return db.parent, checksums(db)


def copy_of(folder: Path, tmp_path: Path) -> Path:
    """A copy of a run's folder (published and working databases, models); returns the published path."""
    shutil.copytree(folder, tmp_path / "copy")
    return tmp_path / "copy" / "cx.duckdb"


def test_running_again_gives_identical_tables(landing, reference, tmp_path):
    db = copy_of(reference[0], tmp_path)
    run(landing, db)
    assert checksums(db) == reference[1]


@pytest.mark.parametrize("fraction", [0.3, 0.6, 0.9])
def test_sigkill_mid_run_leaves_the_previous_state_and_a_rerun_equals_a_clean_run(
    landing, reference, previous, tmp_path, fraction
):
    db = copy_of(previous[0], tmp_path)
    process = start_run(landing, db)
    time.sleep(reference[2] * fraction)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert checksums(db) in (previous[1], reference[1])  # the old snapshot, or the new one if it was published

    run(landing, db)
    assert checksums(db) == reference[1]


def test_two_runs_at_once_and_a_reader_see_no_lock_error_and_no_half_written_day(landing, reference, tmp_path):
    db = tmp_path / "cx.duckdb"
    problems: list[str] = []
    reads = 0
    stop = threading.Event()

    def read_continuously() -> None:
        nonlocal reads
        while not stop.is_set():
            if not db.exists():
                time.sleep(0.05)
                continue
            try:
                with duckdb.connect(str(db), read_only=True) as con:
                    per_day = con.execute(
                        """SELECT o.partition_date, count(*), any_value(d.contacts)
                           FROM metrics.contact_outcomes o
                           LEFT JOIN (SELECT partition_date, sum(contacts) AS contacts
                                      FROM metrics.daily_outcomes GROUP BY 1) d USING (partition_date)
                           GROUP BY 1"""
                    ).fetchall()
                reads += 1
                problems.extend(
                    f"{day}: {n} contacts vs {daily} in daily_outcomes" for day, n, daily in per_day if n != daily
                )
            except duckdb.Error as exc:
                problems.append(f"{type(exc).__name__}: {exc}")

    reader = threading.Thread(target=read_continuously)
    reader.start()
    try:
        runs = [start_run(landing, db), start_run(landing, db)]
        results = [process.communicate(timeout=600) for process in runs]
    finally:
        stop.set()
        reader.join()
    for process, (out, err) in zip(runs, results, strict=True):
        assert process.returncode == 0, out + err
        assert "lock" not in err.lower()
    assert reads > 0 and problems == []
    assert checksums(db) == reference[1]
