"""The processes of the DuckLake test, each run as its own Python process; each prints one JSON object.

writer DB LANDING CONFIG FIRST_DAY DAY BARRIER PEERS   materialise the raw ingest, signals.session_friction and
                                                      the reconciliation checks for DAY, the way a Dagster run
                                                      of that partition does; the writers start together
reader CONFIG STOP                                    query the lake's rows per day until the file STOP exists
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path

SELECTED = (
    "raw/conversations",
    "raw/turns",
    "raw/conversation_events",
    "raw/events",
    "raw/telemetry",
    "signals/session_friction",
)
_STEP_EVENTS = ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE", "STEP_UP_FOR_RETRY", "STEP_RESTARTED")


def writer(database: str, landing: str, config_file: str, first_day: str, day: str, barrier: str, peers: str) -> dict:
    import dagster as dg

    from cx_signals.config import load_config
    from dagster_defs.database_resources import build_resources
    from dagster_defs.definitions import build_assets
    from dagster_defs.partitions import daily_partitions

    config = load_config(config_file)
    assets, checks = build_assets(config, daily_partitions(date.fromisoformat(first_day)))
    reconcile = [c for c in checks if any(key.name == "counts_reconcile" for key in c.check_keys)]
    # start materialising together: importing and building the definitions takes each process seconds of its own
    Path(barrier, day).touch()
    deadline = time.monotonic() + 120
    while len(list(Path(barrier).iterdir())) < int(peers) and time.monotonic() < deadline:
        time.sleep(0.02)
    instance = dg.DagsterInstance.ephemeral()
    start = time.time()
    result = dg.materialize(
        [*assets, *reconcile],
        selection=dg.AssetSelection.assets(*(dg.AssetKey.from_user_string(k) for k in SELECTED)),
        partition_key=day,
        resources=build_resources(database, landing, config),
        instance=instance,
        raise_on_error=False,
    )
    end = time.time()
    steps: dict[str, list] = {}
    for entry in instance.all_logs(result.run_id):
        event = entry.dagster_event
        if event is not None and event.event_type_value in _STEP_EVENTS:
            steps.setdefault(entry.step_key, []).append(event.event_type_value)
    checks_passed = [
        e.event_specific_data.passed for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    failures = {
        e.step_key: e.step_failure_data.error.to_string()[-1500:]
        for e in result.all_events
        if e.event_type_value == "STEP_FAILURE" and e.step_failure_data.error
    }
    return {
        "day": day,
        "success": result.success,
        "start": start,
        "end": end,
        "steps": steps,
        "checks": checks_passed,
        "failures": failures,
    }


def reader(config_file: str, stop: str) -> dict:
    import duckdb

    from cx_signals.config import load_config
    from cx_signals.storage import Storage, connect_lake

    storage = Storage.from_config(load_config(config_file))
    reads: list[dict] = []
    con = None
    deadline = time.monotonic() + 600
    while not Path(stop).exists() and time.monotonic() < deadline:
        at = time.time()
        try:
            con = con or connect_lake(storage, read_only=True)
            rows = con.execute(
                "SELECT partition_date::VARCHAR, count(*) FROM raw.conversations GROUP BY ALL ORDER BY ALL"
            ).fetchall()
            reads.append({"at": at, "rows": dict(rows)})
        except duckdb.Error as exc:  # before the first writer's commit there is no lake or no table to read yet
            reads.append({"at": at, "error": f"{type(exc).__name__}: {exc}"[:300]})
            if con is not None:
                con.close()
                con = None
        time.sleep(0.2)
    return {"reads": reads}


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    print(json.dumps({"writer": writer, "reader": reader}[command](*arguments)))
