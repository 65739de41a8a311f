"""The generator's app releases: every record carries the version its app ran, and the bad web release plants its
error from a known day until the fix, without changing any planted friction truth."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from cx_signals.generate import DEFAULT_START, generate_landing
from cx_signals.generate.releases import (
    BAD_RELEASE_DAYS,
    BAD_RELEASE_ERROR,
    BAD_VERSION,
    RELEASE_HOUR,
    bad_release_day,
    releases,
)

DAYS = 12


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("releases")
    generate_landing(out, days=DAYS, customers=400, seed=3)
    return out


def telemetry(landing: Path) -> pl.DataFrame:
    lines = [json.loads(line) for f in sorted((landing / "telemetry").glob("*.jsonl")) for line in f.open()]
    return pl.DataFrame(lines).with_columns(pl.col("ts").str.to_datetime(time_zone="UTC"))


def test_bad_release_day_is_known():
    assert bad_release_day(14) == bad_release_day(12) == 8 and bad_release_day(6) == 3
    web = releases(14)["web"]
    assert [bad for _, _, bad in web] == [False, True, False] and web[1][:2] == (8, BAD_VERSION)
    assert web[2][0] == 8 + BAD_RELEASE_DAYS


def test_every_record_carries_the_version_its_app_ran(landing: Path):
    truth = pl.read_parquet(landing / "_truth" / "releases.parquet")
    assert truth.filter(pl.col("bad")).select("app", "version", "error").row(0) == (
        "web", BAD_VERSION, BAD_RELEASE_ERROR[0]
    )  # fmt: skip
    events = pl.read_parquet(landing / "events")
    assert events["app_version"].null_count() == 0 and telemetry(landing)["app_version"].null_count() == 0
    versions = set(events["app_version"]) | set(telemetry(landing)["app_version"])
    assert versions <= set(truth["version"]) and BAD_VERSION in versions


def test_the_bad_release_error_runs_from_its_release_to_its_fix(landing: Path):
    start = datetime(DEFAULT_START.year, DEFAULT_START.month, DEFAULT_START.day, RELEASE_HOUR, tzinfo=UTC)
    shipped = start + timedelta(days=bad_release_day(DAYS))
    fixed = shipped + timedelta(days=BAD_RELEASE_DAYS)
    errors = telemetry(landing).filter(pl.col("name") == BAD_RELEASE_ERROR[0])
    assert errors.height > 10
    assert errors["app_version"].unique().to_list() == [BAD_VERSION] and errors["app"].unique().to_list() == ["web"]
    # a session keeps the version it started on, so an error may come after the fix, never before the release
    assert errors["ts"].min() >= shipped and errors["ts"].min() < shipped + timedelta(days=1)
    assert errors.filter(pl.col("ts") > fixed + timedelta(hours=2)).height == 0
    # it only joins sessions that already had friction: their planted error counts include it
    sessions = pl.read_parquet(landing / "_truth" / "sessions.parquet")
    hit = sessions.filter(pl.col("session_id").is_in(errors["session_id"].drop_nulls().to_list()))
    assert hit.height > 0 and (hit["errors"] >= 1).all()
