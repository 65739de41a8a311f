"""`dagster asset materialize` (the implicit asset job, as the UI and backfills run it) executes every step in one
process: a process per step spent far longer importing and waiting for the database lock than working."""

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg

from cx_signals.config import load_config
from cx_signals.generate import generate_landing
from dagster_defs.definitions import build_definitions

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 10, 1)


def test_every_job_uses_the_in_process_executor():
    definitions = build_definitions(load_config(), DAY, "cx_data/cx.duckdb", "cx_data/landing")
    jobs = [definitions.resolve_implicit_global_asset_job_def()]
    jobs += [definitions.resolve_job_def(name) for name in ("cx_pipeline", "cx_train")]
    assert {job.executor_def.name for job in jobs} == {"in_process"}


def test_dagster_asset_materialize_runs_every_step_in_one_process(tmp_path):
    landing = tmp_path / "landing"
    generate_landing(landing, days=1, customers=60, seed=3, start=DAY)
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "CX_SIGNALS_DB": str(tmp_path / "cx.duckdb"),
        "CX_SIGNALS_LANDING": str(landing),
    }
    command = [sys.executable, "-m", "dagster", "asset", "materialize", "-m", "dagster_defs.definitions"]
    command += ["--select", "*", "--partition-range", f"{DAY}...{DAY}"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]

    instance = dg.DagsterInstance.from_config(str(home))
    (run,) = instance.get_runs()
    assert run.status == dg.DagsterRunStatus.SUCCESS
    events = [e.dagster_event for e in instance.all_logs(run.run_id) if e.dagster_event]
    steps = {e.step_key for e in events if e.event_type_value == "STEP_SUCCESS"}
    assert len(steps) > 30 and not [e for e in events if e.event_type_value == "STEP_FAILURE"]
    started = [e for e in events if e.event_type_value == "STEP_START"]
    assert len(started) == len(steps) and len({e.pid for e in started}) == 1
    assert any("Executing steps in process" in (e.message or "") for e in events)
    assert (tmp_path / "cx.duckdb").exists()  # published


def test_on_a_ducklake_steps_run_in_processes_of_their_own(tmp_path):
    override = tmp_path / "lake.yml"
    override.write_text(
        "storage: {mode: ducklake, catalog: 'postgres:dbname=cx_lake host=127.0.0.1', data_path: /tmp/lake}\n"
    )
    definitions = build_definitions(load_config(override), DAY, "cx_data/cx.duckdb", "cx_data/landing")
    jobs = [definitions.resolve_implicit_global_asset_job_def()]
    jobs += [definitions.resolve_job_def(name) for name in ("cx_pipeline", "cx_train")]
    assert {job.executor_def.name for job in jobs} == {"multiprocess"}
