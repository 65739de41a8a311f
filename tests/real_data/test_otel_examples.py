"""The OpenTelemetry protocol's own OTLP/JSON example requests (../shared/data/otel_examples) through `cx-signals run`:
the log record, the event and the span land in raw.telemetry with their severity, time and service; the metrics
request is quarantined with its reason."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from tests.conftest import cx

OTEL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "otel_examples"

pytestmark = [
    pytest.mark.real_data,
    pytest.mark.skipif(not (OTEL / "logs.json").is_file(), reason=f"OTLP examples not found at {OTEL}"),
]


def test_otlp_examples_load_into_telemetry(tmp_path):
    folder = tmp_path / "landing" / "telemetry"
    folder.mkdir(parents=True)
    for name in ("logs.json", "events.json", "trace.json", "metrics.json"):
        shutil.copy(OTEL / name, folder / name)
    db = tmp_path / "cx.duckdb"
    result = cx("run", "--landing", str(tmp_path / "landing"), "--db", str(db), timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "telemetry/logs.json" in result.stdout and "│ otel" in result.stdout
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            """SELECT source_file, ts, kind, name, severity, message, duration_ms, app
            FROM raw.telemetry ORDER BY source_file"""
        ).fetchall()
        rejects = con.execute("SELECT source_file, rule, reason FROM quarantine.rejects").fetchall()
        anonymous = con.execute("SELECT DISTINCT anonymous_key IS NOT NULL FROM raw.telemetry").fetchall()
    # 1544712660300000000 ns after 1970 is 2018-12-13 14:51:00.3 UTC
    at = datetime(2018, 12, 13, 14, 51, 0, 300000)
    body = {"type": 0, "url": "https://www.guidgenerator.com/online-guid-generator.aspx",
            "referrer": "https://wwww.google.com", "title": "Free Online GUID Generator"}  # fmt: skip
    event, log, span = rows
    assert event[:5] == ("telemetry/events.json", at, "event", "browser.page_view", "info")
    assert json.loads(event[5]) == body
    assert log == ("telemetry/logs.json", at, "log", "my.library", "info", "Example log record", None, "web")
    assert span == ("telemetry/trace.json", datetime(2018, 12, 13, 14, 51), "api_call", "I'm a server span", None,
                    None, 1000.0, "web")  # fmt: skip
    assert anonymous == [(True,)]  # service:my.service, pseudonymised
    [(name, rule, reason)] = rejects
    assert (name, rule) == ("telemetry/metrics.json", "unmappable_record") and "OTLP metrics" in reason
