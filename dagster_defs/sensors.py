"""Sensor on the landing folder: new or changed files trigger a run over the days they touch and the days whose
windows read those days, and are reported as a materialisation of their source's landing asset.

The cursor keys every landing file by path, size and modification time, so a tick that finds nothing new reads no
file (it only lists the folders and stats their files). It also keeps the days holding data, which bound what a
run is asked for.
"""

import hashlib
import json
import os
import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg

from cx_signals.config import Parameters
from cx_signals.ingest import landing_days
from cx_signals.landing import SOURCES, LandingPathError, landing_files, scan
from dagster_defs.checks import RANGE_END, RANGE_START
from dagster_defs.database_resources import CxSettings
from dagster_defs.jobs import AssetJob
from dagster_defs.partitions import DATA_DAYS_TAG, day_spans, days_in_spans, longest_window_days, plan_runs

CURSOR_VERSION = 2
# relative path -> [size in bytes, modification time in ns]
Listing = dict[str, list[int]]


def landing_asset_key(source: str) -> dg.AssetKey:
    """The external asset standing for the files of `source` (see `definitions.landing_assets`)."""
    return dg.AssetKey(["landing", source])


def arrivals(listing: Listing, changed: list[str]) -> list[dg.AssetMaterialization]:
    """A materialisation of each source's landing asset with the number and size of its new or changed files (not
    their names, which may hold personal data)."""
    by_source: dict[str, list[str]] = {}
    for relative in changed:
        by_source.setdefault(Path(relative).parts[0], []).append(relative)
    return [
        dg.AssetMaterialization(
            landing_asset_key(source),
            description="new or changed landing files",
            metadata={"files": len(files), "bytes": sum(listing[f][0] for f in files)},
        )
        for source, files in sorted(by_source.items())
    ]


def list_landing(root: Path) -> Listing:
    """Size and modification time of every regular file `scan` would read, by `os.stat` alone (nothing is opened
    or hashed): hidden and `_` names are skipped and folder links not followed, as `scan` does."""
    if not root.is_dir():
        raise LandingPathError(f"landing folder {root} does not exist or is not a folder")
    listing: Listing = {}
    for source in SOURCES:
        for folder, folders, names in os.walk(root / source):
            folders[:] = [name for name in folders if not name.startswith((".", "_"))]
            for name in names:
                if name.startswith((".", "_")):
                    continue
                path = os.path.join(folder, name)
                try:
                    status = os.stat(path)
                except OSError:  # a dangling link holds no records: the run quarantines it
                    continue
                if stat.S_ISREG(status.st_mode):
                    listing[os.path.relpath(path, root)] = [status.st_size, status.st_mtime_ns]
    return listing


def _migrate(root: Path, hashes: list[str], config: Parameters) -> dict[str, Any]:
    """A version 2 cursor from the first one (the SHA-256 of every file seen): hashes the landing files once to
    tell the seen ones, and reads them once for the days holding data."""
    seen = set(hashes)
    found = scan(root).files
    listing = list_landing(root)
    known = {f.relative: listing[f.relative] for f in found if f.sha256 in seen and f.relative in listing}
    return {"version": CURSOR_VERSION, "files": known, "days": day_spans(sorted(landing_days(found, config)))}


def read_cursor(cursor: str | None, root: Path, config: Parameters) -> dict[str, Any]:
    """The sensor's cursor: {"version": 2, "files": Listing, "days": DATA_DAYS_TAG spans of the days holding data}."""
    state = json.loads(cursor) if cursor else {}
    if isinstance(state, list):
        return _migrate(root, state, config)
    return {"version": CURSOR_VERSION, "files": state.get("files", {}), "days": state.get("days", "")}


def requested_days(touched: set[date], data_days: set[date], reach: tuple[int, int], today: date) -> list[date]:
    """The days a run must redo: every day within `reach` (days before, after) of a touched day, among the days
    holding data, none after today."""
    before, after = reach
    around = {day + timedelta(days=offset) for day in touched for offset in range(-before, after + 1)}
    return sorted(day for day in around & data_days if day <= today)


def build_landing_sensor(job: AssetJob, config: Parameters, reach: tuple[int, int]) -> dg.SensorDefinition:
    """The landing sensor for `job`, reading days with the pipeline's parameters; `reach` is `window_reach` of the
    pipeline's assets."""
    window_days = longest_window_days(config)

    @dg.sensor(
        job=job,
        name="landing_sensor",
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Starts a run for the days touched by landing files that are new or changed (by path, size and "
        "modification time), and the days whose windows read them.",
    )
    def landing_sensor(context: dg.SensorEvaluationContext, settings: CxSettings) -> dg.SensorResult:
        root = Path(settings.landing_dir)
        try:
            state = read_cursor(context.cursor, root, config)
            listing = list_landing(root)
        except LandingPathError as exc:
            return dg.SensorResult(skip_reason=str(exc))
        changed = sorted(relative for relative, seen in listing.items() if state["files"].get(relative) != seen)
        # deleted files are forgotten; their days stay among the days holding data
        cursor = {"version": CURSOR_VERSION, "files": listing, "days": state["days"]}
        if not changed:
            return dg.SensorResult(skip_reason="no new or changed landing files", cursor=json.dumps(cursor))
        touched = landing_days(list(landing_files(root, changed)), config)
        data_days = days_in_spans(state["days"]) | touched
        cursor["days"] = day_spans(sorted(data_days))
        days = requested_days(touched, data_days, reach, datetime.now(UTC).date())
        arrived = arrivals(listing, changed)
        if not days:
            return dg.SensorResult(
                skip_reason="new files hold no dated records", cursor=json.dumps(cursor), asset_events=arrived
            )
        files_key = "\n".join(f"{relative}:{listing[relative][0]}:{listing[relative][1]}" for relative in changed)
        requests = []
        for group in plan_runs(days, window_days):
            tags = {RANGE_START: str(group[0]), RANGE_END: str(group[-1]), DATA_DAYS_TAG: day_spans(group)}
            run_key = hashlib.sha256(f"{files_key}\n{group[0]}".encode()).hexdigest()
            requests.append(dg.RunRequest(run_key=f"landing:{run_key}", tags=tags))
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor), asset_events=arrived)

    return landing_sensor
