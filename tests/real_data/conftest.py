"""Shared real-data fixtures: Snowplow's web-model fixture through `cx-signals run`, once for all its readers."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import cx

SNOWPLOW = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "snowplow_web"
EVENTS = SNOWPLOW / "source" / "snowplow_web_events.csv"


@pytest.fixture(scope="session")
def snowplow_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """Snowplow's events CSV as published, alone in a landing folder, run once: the published database's path and
    the run's captured output (the readers of the same run are grouped onto one xdist worker, tests/conftest.py)."""
    if not EVENTS.is_file():
        pytest.skip(f"Snowplow web sample not found at {SNOWPLOW}")
    root = tmp_path_factory.mktemp("snowplow")
    (root / "landing" / "events").mkdir(parents=True)
    shutil.copy(EVENTS, root / "landing" / "events" / EVENTS.name)
    db = root / "cx.duckdb"
    return db, cx("run", "--landing", str(root / "landing"), "--db", str(db), timeout=600)
