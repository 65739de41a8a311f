"""The HTML report on a small hand-made database: the numbers it shows, its charts, and that it needs no network."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest

from cx_signals.db import ensure_schema
from cx_signals.report import build_report, wilson
from tests.conftest import insert

DAY_1, DAY_2 = date(2026, 10, 1), date(2026, 10, 2)
# (day, channel, intent, contacts, contained, cwq, fcr, repeat, escalated, abandoned, cost_total)
DAILY = [
    (DAY_1, "chat", "billing", 10, 6, 4, 7, 3, 2, 1, 20.0),
    (DAY_2, "chat", "billing", 30, 15, 9, 24, 6, 9, 3, 45.0),
    (DAY_1, "voice", "billing", 8, 0, 0, 5, 2, 0, 1, 64.0),
    (DAY_2, "voice", "refund", 12, 1, 1, 10, 2, 1, 0, 120.0),
]
# Resolved chains' cost-to-resolve per channel of the resolving contact.
RESOLVED = {"chat": [3.0, 5.0, 7.0], "voice": [10.0, 30.0]}
ALERTS = 25


def _daily_row(day, channel, intent, contacts, contained, cwq, fcr, repeat, escalated, abandoned, cost_total):
    return {
        "partition_date": day,
        "channel": channel,
        "intent": intent,
        "contacts": contacts,
        "contained": contained,
        "contained_with_quality": cwq,
        "fcr": fcr,
        "repeat_contacts": repeat,
        "escalated": escalated,
        "abandoned": abandoned,
        "cwq_failed_repeat": 1 if contained > cwq else 0,
        "cwq_failed_sentiment": contained - cwq - 1 if contained > cwq else 0,
        "cwq_failed_csat": 0,
        "cwq_failed_friction": 1 if contained > cwq else 0,
        "surveyed": 2,
        "csat_mean": 4.0,
        "cost_total": cost_total,
    }


def _resolving_contacts() -> list[dict]:
    rows = []
    for channel, costs in RESOLVED.items():
        for i, cost in enumerate(costs):
            started = datetime(2026, 10, 1, 9) + timedelta(hours=i)
            rows.append(
                {
                    "partition_date": DAY_1 if i % 2 == 0 else DAY_2,
                    "conversation_id": f"{channel}-{i}",
                    "customer_key": f"k{i}",
                    "channel": channel,
                    "intent": "billing",
                    "started_at": started,
                    "ended_at": started + timedelta(minutes=10),
                    "cost": cost,
                    "resolves_chain": True,
                    "chain_status": "resolved",
                    "cost_to_resolve": cost,
                    "time_to_resolve_seconds": 3600.0,
                }
            )
    return rows


def _sessions() -> list[dict]:
    pages = ["/orders/123/return", "/orders/456/return", "/checkout", None, None]
    return [
        {
            "partition_date": DAY_1,
            "session_key": f"sid:{i}",
            "session_start": datetime(2026, 10, 1, 8, i),
            "session_end": datetime(2026, 10, 1, 8, i + 5),
            "entry_page": "/login" if page else "/",
            "first_rage_click_page": page,
            "rage_click_bursts": 1 if page else 0,
            "dead_clicks": 2 if page else 0,
            "error_clicks": 1 if page == "/checkout" else 0,
            "form_errors": 0,
            "crashes": 0,
            "contact_starts": 1 if page == "/checkout" else 0,
            "had_friction": page is not None,
            "friction_score": 5.0 if page else 0.0,
        }
        for i, page in enumerate(pages)
    ]


def _alerts() -> list[dict]:
    return [
        {
            "partition_date": DAY_2,
            "alert_id": f"a{i}",
            "rule": "rage_then_help",
            "severity": "high" if i % 2 else "medium",
            "subject_type": "session",
            "subject_id": f"sid:{i}",
            "alert_at": datetime(2026, 10, 2, 0, 0) + timedelta(minutes=10 * i),
            "value": float(i),
            "threshold": 15.0,
            "reason": f"alert number {i:02d} <b>bold</b>",
        }
        for i in range(ALERTS)
    ]


def make_report_db(path: Path) -> Path:
    """A database file with daily outcomes, resolved chains, sessions, alerts and journey priorities."""
    with duckdb.connect(str(path)) as con:
        ensure_schema(con)
        insert(con, "metrics.daily_outcomes", [_daily_row(*row) for row in DAILY])
        insert(con, "metrics.contact_outcomes", _resolving_contacts())
        insert(con, "signals.session_friction", _sessions())
        con.execute(
            "CREATE OR REPLACE TABLE signals.friction_alerts (partition_date DATE, alert_id VARCHAR, rule VARCHAR, "
            "severity VARCHAR, subject_type VARCHAR, subject_id VARCHAR, alert_at TIMESTAMP, value DOUBLE, "
            "threshold DOUBLE, reason VARCHAR)"
        )
        con.executemany(
            "INSERT INTO signals.friction_alerts (partition_date, alert_id, rule, severity, subject_type, subject_id, "
            "alert_at, value, threshold, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [list(a.values()) for a in _alerts()],
        )
        # Two days of priorities: the report shows the latest day's ranking only.
        con.executemany(
            "INSERT INTO metrics.journey_priorities (partition_date, intent, rank, repeat_rate, score) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                (date(2026, 10, 1), "refund", 1, 0.8, 0.95),
                (date(2026, 10, 1), "billing", 2, 0.1, 0.2),
                (date(2026, 10, 2), "refund", 2, 0.4, 0.3),
                (date(2026, 10, 2), "billing", 1, 0.9, 0.9),
            ],
        )
    return path


def _section(html: str, section_id: str) -> str:
    start = html.index(f'id="{section_id}"')
    end = html.find("<section", start)
    return html[start : end if end > 0 else len(html)]


def _interval(k: int, n: int) -> tuple[str, str]:
    """The 95% Wilson interval from the SQL macros (an implementation independent of the report's)."""
    con = duckdb.connect()
    ensure_schema(con)
    low, high = con.execute(
        "SELECT wilson_low(?::DOUBLE, ?::DOUBLE), wilson_high(?::DOUBLE, ?::DOUBLE)", [k, n, k, n]
    ).fetchone()
    return f"{low:.1%}", f"{high:.1%}"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, object]:
    folder = tmp_path_factory.mktemp("report")
    summary = build_report(make_report_db(folder / "cx.duckdb"), folder / "out" / "report.html", title="Test report")
    return summary.out.read_text(encoding="utf-8"), summary


def test_summary_describes_what_was_written(report) -> None:
    html, summary = report
    assert summary.out.is_file() and summary.size_bytes == len(html.encode("utf-8"))
    assert summary.contacts == sum(row[3] for row in DAILY)
    assert (summary.period_start, summary.period_end) == (DAY_1, DAY_2)
    assert all(summary.sections.values()), summary.sections
    assert "<title>Test report</title>" in html


def test_headline_rates_are_whole_period_counts_with_wilson_intervals(report) -> None:
    html, _ = report
    headline = _section(html, "headline")
    n = sum(row[3] for row in DAILY)
    for column, key in (
        (4, "containment"),
        (5, "cwq"),
        (6, "fcr"),
        (7, "repeat"),
        (8, "escalation"),
        (9, "abandonment"),
    ):
        k = sum(row[column] for row in DAILY)
        card = headline[headline.index(f'id="kpi-{key}"') :][:600]
        low, high = _interval(k, n)
        assert f"{k / n:.1%}" in card, key
        assert f"{low} – {high}" in card, key
    chat = [row for row in DAILY if row[1] == "chat"]
    k, n_chat = sum(row[4] for row in chat), sum(row[3] for row in chat)
    low, high = _interval(k, n_chat)
    chat_row = headline[headline.index(">chat</th>") :][:1500]
    assert f"{k / n_chat:.1%}" in chat_row
    assert f"{low.removesuffix('%')}–{high}" in chat_row


def test_headline_costs(report) -> None:
    html, _ = report
    headline = _section(html, "headline")
    cost_per_contact = sum(row[10] for row in DAILY) / sum(row[3] for row in DAILY)
    assert f"{cost_per_contact:,.2f}" in headline[headline.index('id="kpi-cost"') :][:400]
    every = [c for costs in RESOLVED.values() for c in costs]
    ctr = headline[headline.index('id="kpi-ctr"') :][:500]
    assert f"{np.median(every):,.2f}" in ctr
    assert f"90th percentile {np.percentile(every, 90):,.2f}" in ctr
    voice_row = headline[headline.index(">voice</th>") :][:1500]
    assert f"{np.median(RESOLVED['voice']):,.2f}" in voice_row
    assert f"{np.percentile(RESOLVED['voice'], 90):,.2f}" in voice_row


def test_cwq_failure_parts(report) -> None:
    html, _ = report
    cwq = _section(html, "cwq")
    contained = sum(row[4] for row in DAILY)
    with_quality = sum(row[5] for row in DAILY)
    assert f"<strong>{contained}</strong> contacts the bot handled alone" in cwq
    assert f"<strong>{contained - with_quality}</strong> were not" in cwq
    repeat_failures = sum(1 for row in DAILY if row[4] > row[5])
    assert re.search(rf"Repeat contact</th><td>{repeat_failures}</td>", cwq)


def test_trends_are_inline_svg_charts(report) -> None:
    html, _ = report
    trends = _section(html, "trends")
    assert trends.count("<svg") == 3
    assert 'class="mark-line' in trends and 'class="mark-area' in trends and 'class="mark-rect' in trends
    assert "Show the data" in trends


def test_friction_hot_spots_group_page_ids(report) -> None:
    html, _ = report
    friction = _section(html, "friction")
    rage = friction[friction.index('id="rage-pages"') :]
    assert "<code>/orders/{id}/return</code></th><td>2</td>" in rage
    assert "/orders/123/return" not in html
    assert "<code>/checkout</code></th><td>1</td><td>1</td><td>1</td>" in rage


def test_alerts_latest_twenty_escaped(report) -> None:
    html, _ = report
    alerts = _section(html, "alerts")
    shown = re.findall(r"alert number (\d\d)", alerts)
    assert shown == [f"{i:02d}" for i in range(ALERTS - 1, ALERTS - 21, -1)]
    assert f"Latest 20 of {ALERTS} alerts" in alerts
    counts = "<strong>25</strong> open alerts: <strong>13</strong> medium, <strong>12</strong> high."
    assert counts in " ".join(alerts.split())
    assert "<b>bold</b>" not in alerts and "&lt;b&gt;bold&lt;/b&gt;" in alerts
    assert "rage then help" in alerts


def test_journey_priorities_ranked(report) -> None:
    html, _ = report
    priorities = _section(html, "priorities")
    assert priorities.index(">billing<") < priorities.index(">refund<")
    assert "90.0%" in priorities and "80.0%" not in priorities  # the latest day only
    assert priorities.count(">billing<") == 1


def test_needs_no_network(report) -> None:
    html, _ = report
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"<script|<link|<img|<iframe|@import|url\(", html, re.IGNORECASE)
    assert "default-src 'none'" in html


def test_row_counts_in_small_print(report) -> None:
    html, _ = report
    about = html[html.index('id="row-counts"') :]
    assert f"<code>metrics.daily_outcomes</code></th><td>{len(DAILY)}</td>" in about
    assert f"<code>signals.friction_alerts</code></th><td>{ALERTS}</td>" in about


def test_empty_database(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    with duckdb.connect(str(db)) as con:
        ensure_schema(con)
    summary = build_report(db, tmp_path / "report.html")
    html = summary.out.read_text(encoding="utf-8")
    assert summary.contacts == 0 and summary.period_start is None
    assert not any(summary.sections.values())
    assert "<svg" not in html
    for section in ("headline", "trends", "friction", "priorities", "alerts"):
        assert "Not available yet" in _section(html, section), section


def test_database_without_tables(tmp_path: Path) -> None:
    db = tmp_path / "bare.duckdb"
    duckdb.connect(str(db)).close()
    html = build_report(db, tmp_path / "report.html").out.read_text(encoding="utf-8")
    assert "<code>metrics.journey_priorities</code> is not in this database" in html


def test_missing_database_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        build_report(tmp_path / "nope.duckdb", tmp_path / "report.html")
    assert not (tmp_path / "nope.duckdb").exists()


@pytest.mark.parametrize(("k", "n"), [(0, 1), (0, 50), (1, 1), (50, 50), (7, 40), (123, 1000)])
def test_wilson_matches_the_sql_macros(k: int, n: int) -> None:
    con = duckdb.connect()
    ensure_schema(con)
    expected = con.execute(
        "SELECT wilson_low(?::DOUBLE, ?::DOUBLE), wilson_high(?::DOUBLE, ?::DOUBLE)", [k, n, k, n]
    ).fetchone()
    assert wilson(k, n) == pytest.approx(expected, abs=1e-12)
    assert wilson(0, 0) is None
