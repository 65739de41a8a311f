"""The report as a reader sees it: rendered offline by headless Chromium (Debian's `chromium` package)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from cx_signals.report import build_report
from tests.unit.test_report import ALERTS, make_report_db

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium; .ci/run installs it)"
)
WIDTH, HEIGHT = 1280, 2400


def chromium(profile: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with no network-facing services and a throwaway profile."""
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *arguments,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)


def png_rows(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the decompressed (still filtered) scanlines of an 8-bit PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth = struct.unpack(">IIB", data[16:25])
    assert depth == 8
    idat, position = b"", 8
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        if kind == b"IDAT":
            idat += data[position + 8 : position + 8 + length]
        position += 12 + length
    return width, height, zlib.decompress(idat)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("browser")
    report = build_report(make_report_db(folder / "cx.duckdb"), folder / "report.html").out
    return {"report": report, "folder": folder}


def test_dom_shows_headline_charts_and_alerts(rendered: dict[str, Path]) -> None:
    result = chromium(rendered["folder"] / "profile-dom", "--dump-dom", rendered["report"].as_uri())
    dom = result.stdout
    headline = dom[dom.index('id="headline"') : dom.index('id="cwq"')]
    assert "Headline metrics</h2>" in headline
    assert re.search(r'id="kpi-containment".*?class="value">\d+\.\d%<', headline, re.DOTALL)
    assert "95% interval" in headline and 'id="channel-table"' in headline

    trends = dom[dom.index('id="trends"') : dom.index('id="friction"')]
    svgs = re.findall(r"<svg.*?</svg>", trends, re.DOTALL)
    assert len(svgs) == 3
    for svg in svgs:
        marks = re.findall(r'<path[^>]*d="M[^"]+', svg[svg.index("role-mark") :])
        assert marks, "chart without drawn marks"
    assert 'class="mark-line' in trends and 'class="mark-rect' in trends

    alerts = dom[dom.index('id="alerts"') : dom.index('id="about"')]
    assert "Current alerts</h2>" in alerts
    assert alerts.count("<tr>") == 1 + 20  # header row + the latest 20
    assert f"alert number {ALERTS - 1:02d}" in alerts


def test_screenshot_is_not_blank(rendered: dict[str, Path]) -> None:
    shot = rendered["folder"] / "shot.png"
    chromium(
        rendered["folder"] / "profile-shot",
        "--hide-scrollbars",
        f"--screenshot={shot}",
        f"--window-size={WIDTH},{HEIGHT}",
        rendered["report"].as_uri(),
    )
    data = shot.read_bytes()
    assert len(data) > 60_000, f"screenshot is only {len(data)} bytes"
    width, height, rows = png_rows(data)
    assert (width, height) == (WIDTH, HEIGHT)
    # A blank page filters to a handful of repeated bytes (4 for about:blank); text, tables and charts give ~all 256.
    assert len(set(rows)) > 64
