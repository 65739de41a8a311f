"""Shared end-to-end fixtures: a generated landing folder with one malformed record per source, run once."""

import gzip
import json
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import cx


@pytest.fixture(scope="session")
def landing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("e2e") / "landing"
    result = cx("generate", "--out", str(out), "--days", "12", "--customers", "500", "--seed", "11")
    assert result.returncode == 0, result.stderr
    # one malformed record per source, each in a file that also holds good records
    with gzip.open(out / "transcripts" / "transcripts-2026-10-02.jsonl.gz", "at") as handle:
        handle.write('{"conversation_id": "broken", "channel": "chat", "turns": [\n')
    with (out / "telemetry" / "telemetry-2026-10-02.jsonl").open("a") as handle:
        handle.write(
            json.dumps(
                {"ts": "2026-10-02T10:00:00Z", "app": "fridge", "kind": "error", "name": "E", "anonymous_id": "x"}
            )
            + "\n"
        )
    events = pl.read_parquet(out / "events" / "events-2026-10-02.parquet")
    bad = events.head(1).with_columns(pl.lit("teleport").alias("event_type"), pl.lit("bad-event").alias("event_id"))
    pl.concat([events, bad]).write_parquet(out / "events" / "events-2026-10-02.parquet")
    return out


@pytest.fixture(scope="session")
def database(landing) -> Path:
    db = landing.parent / "cx.duckdb"
    result = cx("run", "--landing", str(landing), "--db", str(db))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "headline metrics" in result.stdout
    return db
