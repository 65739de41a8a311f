import hashlib
import json
import os
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

import cx_signals.landing
import dagster_defs.sensors
from cx_signals.config import Parameters, load_config
from dagster_defs.checks import RANGE_END, RANGE_START
from dagster_defs.database_resources import CxSettings
from dagster_defs.definitions import build_assets
from dagster_defs.jobs import build_jobs
from dagster_defs.partitions import DATA_DAYS_TAG, daily_partitions, days_in_spans, window_reach
from dagster_defs.sensors import build_landing_sensor


def small_windows() -> Parameters:
    """Repeat chains, identity stitching and next issues 1 day each way, priorities over 5 days, anomalies over 2: a
    change on day T reaches the sessions of T-1..T+1 (stitched by its logins), so T-3 (the repeat-risk scores read
    contact outcomes, which read those sessions a day each way) to T+6 (1 + 1 + the priorities' 4 days)."""
    return load_config().merged(
        {
            "outcomes": {"chain_lookback_days": 1},
            "priorities": {"window_days": 5},
            "anomalies": {"baseline_days": 2},
            "sessions": {"identity_lookback_days": 1},
            "next_issues": {"window_days": 1},
        }
    )


def evaluate(landing: Path, cursor: str | None = None, config: Parameters | None = None) -> dg.SensorResult:
    config = config or load_config()
    reach = window_reach(build_assets(config, daily_partitions(date(2026, 1, 1)))[0])
    settings = CxSettings(landing_dir=str(landing), database=str(landing.parent / "cx.duckdb"))
    with dg.build_sensor_context(cursor=cursor, resources={"settings": settings}) as context:
        pipeline, _ = build_jobs()
        return build_landing_sensor(pipeline, config, reach)(context)


def telemetry_file(landing: Path, day: str, records: int = 1) -> Path:
    folder = landing / "telemetry"
    folder.mkdir(parents=True, exist_ok=True)
    record = {"ts": f"{day}T10:00:00Z", "anonymous_id": "a", "app": "web", "kind": "latency", "name": "/"}
    path = folder / f"telemetry-{day}.jsonl"
    path.write_text((json.dumps(record) + "\n") * records)
    return path


def requested(result: dg.SensorResult) -> set[date]:
    return {day for request in result.run_requests for day in days_in_spans(request.tags[DATA_DAYS_TAG])}


@pytest.fixture
def no_reading(monkeypatch):
    """Fail the test if the sensor reads or hashes a landing file."""

    def refuse(*args, **kwargs):
        raise AssertionError("a landing file was read")

    monkeypatch.setattr(dagster_defs.sensors, "landing_days", refuse)
    monkeypatch.setattr(cx_signals.landing, "_sha256", refuse)
    monkeypatch.setattr(cx_signals.landing, "read_file", refuse)


@pytest.fixture
def twelve_days(tmp_path) -> Path:
    landing = tmp_path / "landing"
    for offset in range(12):
        telemetry_file(landing, str(date(2026, 10, 1) + timedelta(days=offset)))
    return landing


def test_new_files_start_one_run_over_their_days(tmp_path):
    landing = tmp_path / "landing"
    telemetry_file(landing, "2026-10-01")
    telemetry_file(landing, "2026-10-03")
    first = evaluate(landing)
    (request,) = first.run_requests
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2026-10-01", "2026-10-03")
    assert request.tags[DATA_DAYS_TAG] == "2026-10-01..2026-10-01,2026-10-03..2026-10-03"  # only days with data
    (arrival,) = first.asset_events  # the source's landing asset, whose freshness policy watches arrivals
    assert arrival.asset_key == dg.AssetKey(["landing", "telemetry"]) and arrival.metadata["files"].value == 2


def test_a_second_tick_with_nothing_new_requests_nothing_and_reads_no_file(twelve_days, request):
    first = evaluate(twelve_days)
    request.getfixturevalue("no_reading")
    again = evaluate(twelve_days, first.cursor)
    assert not again.run_requests and "no new or changed landing files" in again.skip_reason.skip_message
    assert not again.asset_events
    assert json.loads(again.cursor) == json.loads(first.cursor)


def test_touching_one_file_requests_its_day_and_the_days_whose_windows_read_it(twelve_days):
    config = small_windows()
    first = evaluate(twelve_days, config=config)
    assert requested(first) == {date(2026, 10, 1) + timedelta(days=n) for n in range(12)}

    touched = twelve_days / "telemetry" / "telemetry-2026-10-06.jsonl"
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    after = evaluate(twelve_days, first.cursor, config)
    assert requested(after) == {date(2026, 10, 3) + timedelta(days=n) for n in range(10)}  # 10-03 .. 10-12

    # the last day: no day after it holds data, so none is requested
    last = twelve_days / "telemetry" / "telemetry-2026-10-12.jsonl"
    os.utime(last, ns=(last.stat().st_atime_ns, last.stat().st_mtime_ns + 10**9))
    last_days = {date(2026, 10, 9) + timedelta(days=n) for n in range(4)}  # 10-09 .. 10-12
    assert requested(evaluate(twelve_days, after.cursor, config)) == last_days


def test_a_changed_size_or_modification_time_requests_the_file_again(tmp_path):
    landing = tmp_path / "landing"
    path = telemetry_file(landing, "2026-10-01")
    first = evaluate(landing)
    mtime = path.stat().st_mtime_ns

    telemetry_file(landing, "2026-10-01", records=2)
    os.utime(path, ns=(mtime, mtime))  # same modification time, other size
    grown = evaluate(landing, first.cursor)
    assert requested(grown) == {date(2026, 10, 1)}

    os.utime(path, ns=(mtime + 10**9, mtime + 10**9))  # same size, other modification time
    touched = evaluate(landing, grown.cursor)
    assert requested(touched) == {date(2026, 10, 1)}
    assert touched.run_requests[0].run_key != grown.run_requests[0].run_key


def test_the_first_cursor_format_is_migrated(tmp_path):
    landing = tmp_path / "landing"
    seen = telemetry_file(landing, "2026-10-01")
    old_cursor = json.dumps([hashlib.sha256(seen.read_bytes()).hexdigest()])
    telemetry_file(landing, "2026-10-02")
    migrated = evaluate(landing, old_cursor)
    assert requested(migrated) == {date(2026, 10, 1), date(2026, 10, 2)}  # the new file, and the day that reads it
    cursor = json.loads(migrated.cursor)
    assert set(cursor["files"]) == {"telemetry/telemetry-2026-10-01.jsonl", "telemetry/telemetry-2026-10-02.jsonl"}
    assert cursor["days"] == "2026-10-01..2026-10-02"
    assert not evaluate(landing, migrated.cursor).run_requests


def test_a_missing_landing_folder_is_a_skip_with_the_reason(tmp_path):
    result = evaluate(tmp_path / "nowhere")
    assert not result.run_requests and "does not exist" in result.skip_reason.skip_message
