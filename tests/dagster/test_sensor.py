import json
from pathlib import Path

import dagster as dg

from cx_signals.config import load_config
from dagster_defs.checks import RANGE_END, RANGE_START
from dagster_defs.jobs import build_jobs
from dagster_defs.partitions import DATA_DAYS_TAG
from dagster_defs.resources import CxSettings
from dagster_defs.sensors import build_landing_sensor


def evaluate(landing: Path, cursor: str | None = None) -> dg.SensorResult:
    settings = CxSettings(landing_dir=str(landing), database=str(landing.parent / "cx.duckdb"))
    with dg.build_sensor_context(cursor=cursor, resources={"settings": settings}) as context:
        pipeline, _ = build_jobs()
        return build_landing_sensor(pipeline, load_config())(context)


def telemetry_file(landing: Path, day: str) -> None:
    folder = landing / "telemetry"
    folder.mkdir(parents=True, exist_ok=True)
    record = {"ts": f"{day}T10:00:00Z", "anonymous_id": "a", "app": "web", "kind": "latency", "name": "/"}
    (folder / f"telemetry-{day}.jsonl").write_text(json.dumps(record) + "\n")


def test_new_files_start_one_run_over_their_days_and_seen_files_do_not(tmp_path):
    landing = tmp_path / "landing"
    telemetry_file(landing, "2026-10-01")
    telemetry_file(landing, "2026-10-03")
    first = evaluate(landing)
    (request,) = first.run_requests
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2026-10-01", "2026-10-03")
    assert request.tags[DATA_DAYS_TAG] == "2026-10-01..2026-10-01,2026-10-03..2026-10-03"  # only days with data

    again = evaluate(landing, first.cursor)
    assert not again.run_requests and "no new landing files" in again.skip_reason.skip_message

    telemetry_file(landing, "2026-10-05")
    (late,) = evaluate(landing, first.cursor).run_requests
    assert (late.tags[RANGE_START], late.tags[RANGE_END]) == ("2026-10-05", "2026-10-05")


def test_a_missing_landing_folder_is_a_skip_with_the_reason(tmp_path):
    result = evaluate(tmp_path / "nowhere")
    assert not result.run_requests and "does not exist" in result.skip_reason.skip_message
