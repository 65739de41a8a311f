"""The HTML report on a small hand-made database: the numbers it shows, its charts, and that it needs no network."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from cx_signals.config import Target, TargetsParameters, load_config
from cx_signals.db import ensure_schema
from cx_signals.report import METRIC, build_report, report_period, target_status, two_proportion_z, wilson
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
ALERTS = 30


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
                    "contained": False,
                    "escalated": channel == "chat",
                    "abandoned": False,
                    "repeat_contact": False,
                    "fcr": True,
                    "contained_with_quality": False,
                    "predicted_csat": 1.5 + i,
                    "demand_class": "failure" if channel == "voice" else "value",
                    "failure_demand_cause": "chasing_open_journey" if channel == "voice" else None,
                    "chain_length": 1,
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
            "customer_key": f"customer-{i % 7}",
            "alert_at": datetime(2026, 10, 2, 0, 0) + timedelta(minutes=10 * i),
            "value": float(i),
            "threshold": 15.0,
            "reason": f"alert number {i:02d} <b>bold</b>",
            "held_out": i % 5 == 0,
        }
        for i in range(ALERTS)
    ]


def _agents() -> list[dict]:
    """Agent A: 30 conversations over the two days, 10 with a sentiment lift; agent B: 5 conversations."""
    common = {"agent_turns": 1, "handle_time_median_seconds": 300.0, "handle_time_mean_seconds": 300.0,
              "escalation_requests": 1, "transfers": 0, "conversations_as_last_agent": 1}  # fmt: skip
    return [
        {**common, "partition_date": DAY_1, "agent_key": "agentAAAAAAAAAAAA", "conversations": 10,
         "handle_time_total_seconds": 3000.0, "sentiment_lift_mean": 0.2, "sentiment_lift_conversations": 4,
         "repeat_rate": 0.1, "fcr_rate": 0.8, "csat_mean": 4.0, "surveyed": 2},
        {**common, "partition_date": DAY_2, "agent_key": "agentAAAAAAAAAAAA", "conversations": 20,
         "handle_time_total_seconds": 9000.0, "sentiment_lift_mean": 0.5, "sentiment_lift_conversations": 6,
         "repeat_rate": 0.25, "fcr_rate": 0.5, "csat_mean": 3.0, "surveyed": 2},
        {**common, "partition_date": DAY_2, "agent_key": "agentBBBBBBBBBBBB", "conversations": 5,
         "handle_time_total_seconds": 500.0, "sentiment_lift_mean": -0.9, "sentiment_lift_conversations": 5,
         "repeat_rate": 0.0, "fcr_rate": 1.0, "csat_mean": None, "surveyed": 0},
    ]  # fmt: skip


def _precision() -> list[dict]:
    common = {"partition_date": DAY_2, "window_start": DAY_1, "unresolved": 0}
    return [
        {**common, "rule": rule, "alerts": 30, "judged_alerts": 20, "needed_help": 15, "precision": 0.75,
         "precision_low": 0.53, "precision_high": 0.89, "held_out_judged": 4, "held_out_needed_help": 3,
         "held_out_precision": 0.75, "held_out_precision_low": 0.3, "held_out_precision_high": 0.95}
        for rule in ("rage_then_help", "all")
    ]  # fmt: skip


def _journeys() -> list[dict]:
    """Three journeys: one open after friction across two channels, two resolved on chat."""
    return [
        {
            "partition_date": DAY_1,
            "journey_id": f"j{i}",
            "customer_key": f"k{i}",
            "intent": "billing",
            "started_at": datetime(2026, 10, 1, 9 + i),
            "last_contact_started_at": datetime(2026, 10, 1, 9 + i),
            "last_contact_ended_at": datetime(2026, 10, 1, 10 + i),
            "contacts": 2 if i == 0 else 1,
            "conversation_ids": '["c1", "c2"]' if i == 0 else f'["c{i + 2}"]',
            "channels": "chat,voice" if i == 0 else "chat",
            "first_channel": "chat",
            "last_channel": "voice" if i == 0 else "chat",
            "channel_switches": 1 if i == 0 else 0,
            "sessions_before": 1,
            "sessions_between": 0,
            "friction_sessions": 1 if i == 0 else 0,
            "rage_click_bursts": 0,
            "errors": 0,
            "crashes": 0,
            "pre_contact_friction": i == 0,
            "failure_demand_contacts": 1 if i == 0 else 0,
            "escalation_requests": 0,
            "resolved": i != 0,
            "status": "open" if i == 0 else "resolved",
            "time_to_resolve_seconds": None if i == 0 else 3600.0,
        }
        for i in range(3)
    ]


def _defect_anomaly() -> dict:
    return {
        **_anomaly(), "channel": "all", "metric": "defect_contacts", "defect": "error:PaymentSheetTimeout",
        "value": 12.0, "sample_size": 12, "baseline": 2.0, "robust_z": 7.0, "lower_bound": 0.0, "upper_bound": 6.9,
        "move": 10.0, "direction": "up",
    }  # fmt: skip


def _anomaly() -> dict:
    return {
        "partition_date": DAY_2, "channel": "chat", "metric": "cwq_rate", "value": 0.2, "sample_size": 30,
        "contacts": 30, "baseline": 0.35, "baseline_days": 7, "baseline_spread": 0.03, "robust_z": -5.0,
        "lower_bound": 0.245, "upper_bound": 0.455, "move": -0.15, "move_pct": -42.9, "direction": "down",
        "judged": True, "is_anomaly": True,
    }  # fmt: skip


def make_report_db(path: Path) -> Path:
    """A database file with daily outcomes, resolved chains, sessions, alerts, agents, an anomaly, journey
    priorities, bot outcomes, disclosures and next issues (and the other sections' tables)."""
    with duckdb.connect(str(path)) as con:
        ensure_schema(con)
        insert(con, "metrics.daily_outcomes", [_daily_row(*row) for row in DAILY])
        insert(con, "metrics.contact_outcomes", _resolving_contacts())
        insert(con, "signals.session_friction", _sessions())
        insert(con, "signals.friction_alerts", _alerts())
        insert(con, "metrics.agent_daily", _agents())
        insert(con, "metrics.outcome_anomalies", [_anomaly(), _defect_anomaly()])
        insert(con, "signals.journeys", _journeys())
        insert_by_name(con, "metrics.alert_rule_precision", _precision())
        insert_by_name(con, "metrics.failure_demand", _failure_demand())
        insert_by_name(con, "metrics.defects", _defects())
        insert_by_name(con, "metrics.csat_population", _population())
        insert_by_name(con, "metrics.csat_calibration", _calibration())
        insert_by_name(con, "metrics.model_fairness", _fairness())
        insert_by_name(con, "metrics.time_to_value", _time_to_value())
        insert_by_name(con, "signals.emerging_topics", _topics())
        insert(
            con,
            "signals.emerging_topic_contacts",
            [
                {
                    "partition_date": DAY_2,
                    "topic_id": "t2",
                    "conversation_id": "c9",
                    "contact_date": DAY_2,
                    "in_current_week": True,
                    "similarity": 0.9,
                    "representative_rank": 1,
                    "utterance": "my voucher expired <script>",
                },
            ],
        )
        insert_by_name(con, "metrics.qa_scores", _qa())
        insert_by_name(con, "metrics.intervention_effects", _interventions())
        insert_by_name(con, "signals.bot_outcomes", _bot_outcomes())
        insert_by_name(con, "signals.compliance", _compliance())
        insert_by_name(con, "metrics.next_issues", _next_issues())
        insert_by_name(con, "metrics.intent_transitions", _transitions())
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
    assert trends.count("<svg") == 4
    assert 'id="chart-csat"' in trends
    rates = trends[trends.index('id="chart-rates"') :]
    assert 'class="mark-rect' in rates[: rates.index("</svg>")]  # the report's period, shaded
    assert 'class="mark-line' in trends and 'class="mark-area' in trends and 'class="mark-rect' in trends
    assert "Show the data" in trends


def test_friction_hot_spots_group_page_ids(report) -> None:
    html, _ = report
    friction = _section(html, "friction")
    rage = friction[friction.index('id="rage-pages"') :]
    assert "<code>/orders/{id}/return</code></th><td>2</td>" in rage
    assert "/orders/123/return" not in html
    assert "<code>/checkout</code></th><td>1</td><td>1</td><td>1</td>" in rage


def test_alerts_in_business_words_latest_first_escaped(report) -> None:
    html, _ = report
    alerts = _section(html, "alerts")
    shown = re.findall(r"alert number (\d\d)", alerts)
    assert shown == [f"{i:02d}" for i in range(ALERTS - 1, ALERTS - 26, -1)]  # report.top_rows = 25
    assert f"Latest 25 of {ALERTS} cases" in alerts and f"{ALERTS - 25} more not shown" in alerts
    text = " ".join(alerts.split())
    assert f"<strong>{ALERTS}</strong> alerts in" in text
    # what happened to the customer and what to do; seven customers behind the 30 alerts
    assert "7 customers struggled on a checkout or payment page" in text
    assert "<strong>What to do:</strong> Reach out before they give up" in text
    assert f"{ALERTS} alerts, {ALERTS // 2} urgent; 6 held out" in text
    # the technical rule stays in the tooltip and the detail, never in a heading
    assert not re.search(r"<h3>[^<]*rage_then_help", alerts)
    assert 'title="Rule rage_then_help"' in alerts and "threshold 15" in alerts
    assert "<b>bold</b>" not in alerts and "&lt;b&gt;bold&lt;/b&gt;" in alerts
    # the hold-out: counted, and each held-out case marked so that nobody acts on it
    assert "6 held out: leave those as they are" in text
    assert text.count("held out: no action") == len([i for i in range(ALERTS - 25, ALERTS) if i % 5 == 0])
    assert "the customer really needed help 75.0% of the time (53.0% – 89.0%, 20 alerts judged)" in text


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
    for section in (
        "summary",
        "headline",
        "trends",
        "anomalies",
        "friction",
        "priorities",
        "agents",
        "alerts",
        "lists",
    ):
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


# --- the period, its change, drivers and targets ------------------------------------------------------------------


def _two_days(con: duckdb.DuckDBPyConnection, cwq_by_intent: dict[date, dict[str, int]]) -> None:
    """100 chat contacts per intent and day, 60 contained, `cwq_by_intent[day][intent]` contained with quality."""
    rows = []
    for day, cwq in cwq_by_intent.items():
        for intent, k in cwq.items():
            rows.append(
                {**_daily_row(day, "chat", intent, 100, 60, k, 80, 10, 30, 5, 500.0), "csat_mean": 4.0, "surveyed": 10}
            )
    insert(con, "metrics.daily_outcomes", rows)


def insert_by_name(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    """Insert rows into `table` by column name, creating it from the rows if no contract has (a table another stage
    is still adding)."""
    frame = pd.DataFrame(rows)  # noqa: F841 - read by DuckDB's replacement scan
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM frame LIMIT 0")
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM frame")


def _failure_demand() -> list[dict]:
    """Day 1: 20 of 200 contacts failure demand; day 2: 60 of 200, 40 of them billing contacts chasing an open issue."""
    rows = []
    for day, billing, refund in ((DAY_1, (10, 0, 10), (10, 0, 10)), (DAY_2, (50, 40, 10), (10, 0, 10))):
        # (failure demand, chasing, friction) per intent
        for channel, intent, parts in (
            ("all", "billing", billing),
            ("all", "refund", refund),
            ("chat", "all", tuple(a + b for a, b in zip(billing, refund, strict=True))),
            ("all", "all", tuple(a + b for a, b in zip(billing, refund, strict=True))),
        ):
            contacts = 200 if intent == "all" else 100
            failure, chasing, friction = parts
            rows.append(
                {"partition_date": day, "channel": channel, "intent": intent, "contacts": contacts,
                 "failure_demand": failure, "chasing_open_journey": chasing, "pre_contact_error": 0,
                 "pre_contact_friction": friction, "failure_intent": 0}
            )  # fmt: skip
    return rows


def _defects() -> list[dict]:
    common = {"baseline_days": 7}
    return [
        {**common, "partition_date": DAY_1, "defect_type": "error", "defect": "PaymentSheetTimeout",
         "contacts_preceded": 2, "sessions_touched": 400, "trend": "steady", "top_app_version": "5.3.0",
         "top_app_version_share": 1.0},
        {**common, "partition_date": DAY_2, "defect_type": "error", "defect": "PaymentSheetTimeout",
         "contacts_preceded": 30, "sessions_touched": 600, "trend": "rising", "top_app_version": "5.4.0",
         "top_app_version_share": 0.9},
        {**common, "partition_date": DAY_2, "defect_type": "page", "defect": "/checkout", "contacts_preceded": 5,
         "sessions_touched": 1000, "trend": "steady", "top_app_version": None, "top_app_version_share": None},
        *(
            {**common, "partition_date": DAY_2, "defect_type": "page", "defect": f"/orders/{n}/return",
             "contacts_preceded": 1, "sessions_touched": 2, "trend": "too_few", "top_app_version": None,
             "top_app_version_share": None}
            for n in (123, 456)
        ),
        {**common, "partition_date": DAY_2, "defect_type": "app_version", "defect": "5.4.0", "contacts_preceded": 40,
         "sessions_touched": 500, "trend": "new", "top_app_version": None, "top_app_version_share": None},
        {**common, "partition_date": DAY_2, "defect_type": "app_version", "defect": "5.3.0", "contacts_preceded": 10,
         "sessions_touched": 1000, "trend": "falling", "top_app_version": None, "top_app_version_share": None},
    ]  # fmt: skip


def _population() -> list[dict]:
    rows = []
    for day, ipw in ((DAY_1, 3.6), (DAY_2, 3.4)):
        for period in ("day", "window"):
            rows.append(
                {"partition_date": day, "period": period, "window_start": DAY_1, "contacts": 500, "surveyed": 100,
                 "response_rate": 0.2, "naive_mean": 3.9, "estimated": True, "ipw_mean": ipw, "ipw_low": ipw - 0.2,
                 "ipw_high": ipw + 0.2, "ipw_minus_naive": ipw - 3.9, "effective_sample_size": 80.0,
                 "propensity_auc": 0.66, "predicted_mean": 3.5, "predicted_contacts": 500}
            )  # fmt: skip
    return rows


def _calibration() -> list[dict]:
    return [
        {"partition_date": DAY_2, "window_start": DAY_1, "model_version": "v1", "decile": d, "surveyed": 10,
         "predicted_min": 1 + 0.4 * (d - 1), "predicted_max": 1 + 0.4 * d, "mean_predicted": 1.2 + 0.4 * (d - 1),
         "mean_observed": 1.0 + 0.4 * (d - 1), "observed_low": 0.8 + 0.4 * (d - 1),
         "observed_high": 1.2 + 0.4 * (d - 1), "gap": 0.2}
        for d in range(1, 11)
    ]  # fmt: skip


def _fairness() -> list[dict]:
    common = {"partition_date": DAY_2, "window_start": DAY_1, "model": "csat", "model_version": "v1",
              "error_measure": "mae", "overall_error": 0.5}  # fmt: skip
    return [
        {**common, "segment_type": "all", "segment": "all", "labelled": 300, "error": 0.5, "error_ratio": 1.0,
         "calibration_gap": 0.0, "judged": True, "disparity_flag": False},
        {**common, "segment_type": "channel", "segment": "voice", "labelled": 100, "error": 0.8, "error_ratio": 1.6,
         "calibration_gap": 0.3, "judged": True, "disparity_flag": True},
        {**common, "segment_type": "channel", "segment": "chat", "labelled": 190, "error": 0.4, "error_ratio": 0.8,
         "calibration_gap": -0.1, "judged": True, "disparity_flag": False},
        {**common, "segment_type": "channel", "segment": "social", "labelled": 10, "error": 1.5, "error_ratio": 3.0,
         "calibration_gap": 0.9, "judged": False, "disparity_flag": False},
    ]  # fmt: skip


def _time_to_value() -> list[dict]:
    week = date(2026, 9, 28)
    common = {"partition_date": DAY_2, "cohort_week": week, "median_days_to_value": None, "p90_days_to_value": None}
    return [
        # the day before is not the latest day: left out
        {**common, "partition_date": DAY_1, "journey": "all", "channel": "all", "customers": 1, "reached_value": 1,
         "open_customers": 0, "observed_n_days": 1, "reached_within_n_days": 1},
        {**common, "journey": "all", "channel": "all", "customers": 100, "reached_value": 60, "open_customers": 40,
         "median_days_to_value": 2.5, "p90_days_to_value": 9.0, "observed_n_days": 50, "reached_within_n_days": 30},
        {**common, "journey": "billing", "channel": "all", "customers": 70, "reached_value": 50, "open_customers": 20,
         "observed_n_days": 40, "reached_within_n_days": 28},
        {**common, "journey": "all", "channel": "digital", "customers": 100, "reached_value": 60,
         "open_customers": 40, "observed_n_days": 50, "reached_within_n_days": 30},
        {**common, "journey": "billing", "channel": "digital", "customers": 70, "reached_value": 50,
         "open_customers": 20, "observed_n_days": 40, "reached_within_n_days": 28},
    ]  # fmt: skip


def _topics() -> list[dict]:
    common = {"partition_date": DAY_2, "first_seen": DAY_1, "candidates": 80}
    return [
        {**common, "topic_id": "t1", "label": "parcel / locker / code", "size": 12, "size_previous_week": 4,
         "growth": 2.0, "is_new": False},
        {**common, "topic_id": "t2", "label": "voucher / expired / refund", "size": 5, "size_previous_week": 0,
         "growth": None, "is_new": True, "first_seen": DAY_2},
    ]  # fmt: skip


def _qa() -> list[dict]:
    common = {"partition_date": DAY_2, "scorecard": "service", "rules_version": "1", "rules_hash": "h"}
    return [
        {**common, "agent_key": "agentAAAAAAAAAAAA", "conversations": 30, "scored_conversations": 30,
         "score_mean": 0.8, "score_min": 0.5, "questions_applicable": 100, "questions_met": 80},
        {**common, "agent_key": "agentBBBBBBBBBBBB", "conversations": 5, "scored_conversations": 5,
         "score_mean": 0.2, "score_min": 0.1, "questions_applicable": 20, "questions_met": 4},
    ]  # fmt: skip


def _interventions() -> list[dict]:
    common = {"partition_date": DAY_2, "window_start": DAY_1, "held_out_with_action": 0}
    return [
        {**common, "rule": "all", "alerted_journeys": 200, "acted_journeys": 150, "held_out_journeys": 40,
         "acted_repeat_rate": 0.2, "held_out_repeat_rate": 0.4, "repeat_rate_difference": -0.2,
         "repeat_rate_difference_low": -0.35, "repeat_rate_difference_high": -0.05,
         "hours_to_resolve_difference": -3.0, "hours_to_resolve_difference_low": -8.0,
         "hours_to_resolve_difference_high": 2.0, "cost_to_resolve_difference": None,
         "cost_to_resolve_difference_low": None, "cost_to_resolve_difference_high": None},
        {**common, "rule": "repeat_contact_open_journey", "alerted_journeys": 120, "acted_journeys": 90,
         "held_out_journeys": 25, "held_out_with_action": 2, "acted_repeat_rate": 0.3, "held_out_repeat_rate": 0.32,
         "repeat_rate_difference": -0.02, "repeat_rate_difference_low": -0.2, "repeat_rate_difference_high": 0.16},
    ]  # fmt: skip


# (conversation, day, channel, outcome, failure_reason, bot_loops, bot_fallbacks): chat-0 and chat-1 are also in
# metrics.contact_outcomes (their cost and CSAT show in the lists).
BOT_OUTCOMES = [
    ("chat-0", DAY_1, "chat", "escalated", None, 0, 1),
    ("chat-1", DAY_2, "chat", "failed", "fallback", 2, 3),
    ("b1", DAY_1, "chat", "confirmed_resolution", None, 0, 0),
    ("b2", DAY_2, "chat", "confirmed_resolution", None, 0, 0),
    ("b3", DAY_2, "chat", "assumed_resolution", None, 0, 0),
    ("b4", DAY_2, "chat", "abandoned", None, 1, 0),
    ("b5", DAY_2, "chat", "failed", "complaint", 0, 0),
    ("b6", DAY_2, "voice", "escalated", None, 0, 0),
    ("b7", DAY_2, "voice", "failed", "repeat_contact", 0, 0),
    ("b8", DAY_2, "voice", "escalated", None, 0, 0),
]


def _bot_outcomes() -> list[dict]:
    return [
        {"partition_date": day, "conversation_id": cid, "channel": channel, "outcome": outcome,
         "failure_reason": reason, "bot_turns": 3, "last_speaker": "bot", "bot_fallbacks": fallbacks,
         "bot_loops": loops, "max_bot_repeats": 1 + loops, "customer_complained": reason == "complaint",
         "repeat_contact": reason == "repeat_contact"}
        for cid, day, channel, outcome, reason, loops, fallbacks in BOT_OUTCOMES
    ]  # fmt: skip


# (conversation, channel, intent, journey, disclosure, status, said_by, seconds, within_seconds)
COMPLIANCE = [
    ("voice-0", "voice", "billing", "accounts", "call_recording", "missing", None, None, 60.0),
    ("voice-0", "voice", "billing", "accounts", "identity_verification", "missing", None, None, None),
    ("voice-1", "voice", "billing", "accounts", "call_recording", "late", "agent", 95.0, 60.0),
    ("voice-1", "voice", "billing", "accounts", "identity_verification", "said", "agent", 30.0, None),
    ("c1", "voice", "refund", None, "call_recording", "said", "bot", 5.0, 60.0),
    ("c2", "chat", "refund", None, "identity_verification", "said", "bot", 12.0, None),
]


def _compliance() -> list[dict]:
    return [
        {"partition_date": DAY_2, "conversation_id": cid, "customer_key": "k", "channel": channel, "intent": intent,
         "journey": journey, "disclosure": disclosure, "said": status != "missing", "said_by": said_by,
         "first_turn_index": None if seconds is None else 1, "first_said_at": None,
         "seconds_into_conversation": seconds, "within_seconds": within, "status": status}
        for cid, channel, intent, journey, disclosure, status, said_by, seconds, within in COMPLIANCE
    ]  # fmt: skip


# (day, intent, contacts, next issue contacts)
NEXT_ISSUES = [(DAY_1, "billing", 10, 4), (DAY_1, "refund", 5, 1), (DAY_2, "billing", 8, 2), (DAY_2, "unknown", 3, 0)]


def _next_issues() -> list[dict]:
    return [
        {"partition_date": day, "intent": intent, "contacts": n, "next_issue_contacts": k, "next_issue_rate": k / n,
         "window_days": 7}
        for day, intent, n, k in NEXT_ISSUES
    ]  # fmt: skip


def _transitions() -> list[dict]:
    common = {"window_start": DAY_1}
    return [
        {**common, "partition_date": DAY_1, "from_intent": "billing", "to_intent": "refund", "transitions": 1,
         "from_contacts": 10, "share_of_contacts": 0.1, "share_of_next_issues": 1.0},
        {**common, "partition_date": DAY_2, "from_intent": "billing", "to_intent": "refund", "transitions": 5,
         "from_contacts": 18, "share_of_contacts": 5 / 18, "share_of_next_issues": 5 / 6},
        {**common, "partition_date": DAY_2, "from_intent": "billing", "to_intent": "card", "transitions": 1,
         "from_contacts": 18, "share_of_contacts": 1 / 18, "share_of_next_issues": 1 / 6},
        {**common, "partition_date": DAY_2, "from_intent": "refund", "to_intent": "billing", "transitions": 1,
         "from_contacts": 5, "share_of_contacts": 0.2, "share_of_next_issues": 1.0},
    ]  # fmt: skip


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Day 2 against day 1 (report.period_days 1): CwQ falls from 50% to 35%, all of it in billing."""
    folder = tmp_path_factory.mktemp("compared")
    db = folder / "cx.duckdb"
    with duckdb.connect(str(db)) as con:
        ensure_schema(con)
        _two_days(con, {DAY_1: {"billing": 50, "refund": 50}, DAY_2: {"billing": 20, "refund": 50}})
        insert_by_name(con, "metrics.failure_demand", _failure_demand())
        insert_by_name(con, "metrics.defects", _defects())
    parameters = load_config().merged(
        {
            "report": {"period_days": 1, "top_rows": 2},
            "targets": {"cwq_rate": {"target": 0.30}, "fcr_rate": {"target": 0.9}, "repeat_rate": {"target": 0.2}},
        }
    )
    return build_report(db, folder / "report.html", parameters=parameters).out.read_text(encoding="utf-8")


def test_summary_names_the_movement_and_its_driver(compared: str) -> None:
    summary = " ".join(_section(compared, "summary").split())
    assert "Against 01 Oct – 01 Oct 2026" in summary
    assert "Containment with quality fell from 50.0% to 35.0% (−15.0 pts)</strong>, worse." in summary
    # billing's part: 20/200 - 50/200 = -15 pts, the whole change; the single channel is not named
    assert "Most of it comes from billing (intent): its own containment with quality 50.0% → 20.0%" in summary
    assert "(channel)" not in summary
    assert "Containment fell" not in summary  # containment did not move


def test_targets_have_a_status(compared: str) -> None:
    summary = " ".join(_section(compared, "summary").split())
    # CwQ 35.0% >= 30%, but its 95% interval (28.7%-41.9%) reaches the target: at risk
    low, _ = _interval(70, 200)
    assert float(low.removesuffix("%")) < 30
    assert re.search(r"Containment with quality</a></th><td>at least 30.0%</td><td>35.0%</td>.*?at risk", summary)
    assert re.search(r"First-contact resolution</a></th><td>at least 90.0%</td><td>80.0%</td>.*?missed", summary)
    assert re.search(r"Repeat contact rate</a></th><td>at most 20.0%</td><td>10.0%</td>.*?met", summary)
    headline = _section(compared, "headline")
    tile = headline[headline.index('id="kpi-cwq"') :][:900]
    assert "at risk" in tile and "−15.0 pts vs previous" in tile and 'class="change bad"' in tile


def test_change_within_noise_is_not_a_movement(compared: str) -> None:
    headline = _section(compared, "headline")
    containment = headline[headline.index('id="kpi-containment"') :][:900]
    assert "+0.0 pts vs previous · within noise" in containment


def test_tiles_link_to_bounded_lists(report) -> None:
    html, _ = report
    headline = _section(html, "headline")
    links = set(re.findall(r'href="#(list-[a-z-]+)"', headline))
    assert links, "no tile opens a list"
    lists = _section(html, "lists")
    for link in links:
        assert f'<div id="{link}">' in lists, link
    # 5 resolving contacts, all listed, costliest first; escalated ones are the 3 chat contacts
    everything = lists[lists.index('id="list-contacts-all"') :]
    everything = everything[: everything.index("</details>")]
    assert "All 5, costliest first." in everything
    assert everything.index(">voice-1<") < everything.index(">voice-0<") < everything.index(">chat-2<")
    escalated = lists[lists.index('id="list-contacts-escalated"') :]
    assert "All 3, costliest first." in escalated[: escalated.index("</details>")]


def test_lists_show_top_rows_and_count_the_rest(tmp_path: Path) -> None:
    db = make_report_db(tmp_path / "cx.duckdb")
    parameters = load_config().merged({"report": {"top_rows": 2}})
    html = build_report(db, tmp_path / "report.html", parameters=parameters).out.read_text(encoding="utf-8")
    everything = _section(html, "lists")
    everything = everything[everything.index('id="list-contacts-all"') :]
    everything = everything[: everything.index("</details>")]
    assert "First 2 of 5, costliest first; 3 more not shown." in everything
    assert everything.count("<tr>") == 1 + 2


def test_csat_trend_has_surveyed_and_predicted(report) -> None:
    html, _ = report
    chart = html[html.index('id="chart-csat"') :]
    chart = chart[: chart.index("</figure>")]
    # predicted CSAT of the resolving contacts: day 1 = i in (0, 2) for chat and 0 for voice; day 2 = i 1
    day_1 = np.mean([1.5, 3.5, 1.5])
    assert f"<td>{day_1:.2f}</td>" in chart
    assert "Surveyed CSAT" in chart and "Predicted CSAT" in chart


def test_anomalies_in_words(report) -> None:
    html, _ = report
    anomalies = " ".join(_section(html, "anomalies").split())
    assert "Containment with quality on chat fell to 20.0%, against a usual 35.0% (normal range 24.5% – 45.5%)." in (
        anomalies
    )
    assert "−15.0 pts" in anomalies and "worse" in anomalies
    assert (
        "Contacts after the defect error:PaymentSheetTimeout on all channels rose to 12.0, against a usual 2.0 "
        "(normal range 0.0 – 6.9)." in anomalies
    )
    assert "robust z -5.0" in anomalies  # the technical detail, in the tooltip


def test_agents_minimum_sample_and_caution(report) -> None:
    html, _ = report
    agents = " ".join(_section(html, "agents").split())
    assert "1 of 2 agents handled at least 20 conversations" in agents
    assert "1 with fewer are left out" in agents
    assert "agentBBBBB" not in agents and "Agent agentAAAAA" in agents
    assert "Read agent sentiment with care." in agents
    # agent A: 30 conversations, mean handle time 12000 s / 30 = 400 s; FCR (10 x 0.8 + 20 x 0.5) / 30 = 60%
    row = agents[agents.index("Agent agentAAAAA") :]
    assert "<td>30</td><td>7 min</td><td>60.0%</td>" in row
    # 10 conversations carry a sentiment lift (fairness.agent_min_sentiment_conversations 10): (4x0.2 + 6x0.5) / 10;
    # 4 surveyed, under fairness.agent_min_surveyed (10): no CSAT
    row = row[: row.index("</tr>")]
    assert "<td>+0.38<span" in row and '<td>too few<span class="ci">4 surveyed' in row


def test_report_period(tmp_path: Path) -> None:
    period = report_period(date(2026, 10, 28), date(2026, 10, 1), 7)
    assert (period.start, period.end) == (date(2026, 10, 22), date(2026, 10, 28))
    assert (period.previous_start, period.previous_end) == (date(2026, 10, 15), date(2026, 10, 21))
    short = report_period(date(2026, 10, 3), date(2026, 10, 1), 7)
    assert short.start == date(2026, 10, 1)


@pytest.mark.parametrize(
    ("direction", "value", "change", "interval", "status"),
    [
        ("at_least", 0.35, 0.0, None, "met"),
        ("at_least", 0.25, 0.0, None, "missed"),
        ("at_least", 0.35, -0.06, None, "at risk"),  # the same fall again misses
        ("at_least", 0.35, 0.06, (0.29, 0.41), "at risk"),  # the interval reaches the target
        ("at_most", 0.10, 0.02, (0.08, 0.12), "met"),
        ("at_most", 0.35, -0.1, None, "missed"),
        ("at_least", None, None, None, "no data"),
        ("at_least", 0.30, None, None, "met"),  # exactly on target, no earlier period
    ],
)
def test_target_status(direction, value, change, interval, status) -> None:
    target = Target(target=0.30, direction=direction)
    assert target_status(target, value, change, interval)[0] == status


def test_two_proportion_z() -> None:
    assert two_proportion_z(50, 100, 50, 100) == 0
    assert two_proportion_z(0, 0, 1, 10) is None
    assert two_proportion_z(0, 10, 0, 10) is None
    # 50% -> 35% on 200 each: z = -0.15 / sqrt(0.425 x 0.575 x 0.01) = -3.034
    assert two_proportion_z(100, 200, 70, 200) == pytest.approx(-0.15 / math.sqrt(0.425 * 0.575 * 0.01))


def test_every_target_names_a_metric() -> None:
    assert set(TargetsParameters.model_fields) == set(METRIC)


def test_failure_demand_share_change_and_causes(compared: str) -> None:
    section = " ".join(_section(compared, "failure_demand").split())
    low, high = _interval(60, 200)
    assert f'30.0%</span> <span class="ci">60 of 200 contacts · 95% interval {low} – {high}' in section
    # 10% -> 30% on 200 contacts each: a movement, for the worse
    assert 'class="change bad"' in section and "+20.0 pts vs previous" in section
    assert '<a href="#failure_demand">Failure demand rose to 30.0% (+20.0 pts).</a>' in _section(compared, "summary")
    assert 'Chasing an issue still open</dt><dd><span class="value">40</span><span class="ci">66.7% of' in section
    billing = section[section.index(">billing</th>") :]
    assert "<td>100</td><td>50</td><td>50.0%" in billing and "Chasing an issue still open" in billing[:400]


def test_defects_latest_trend_and_releases(compared: str) -> None:
    section = " ".join(_section(compared, "defects").split())
    row = section[section.index("<code>PaymentSheetTimeout</code>") :]
    # day 2 only (report.period_days 1): 30 contacts after it, 2 the day before, 50 per 1,000 of 600 sessions
    assert row.startswith("<code>PaymentSheetTimeout</code></td><td>30</td><td>2</td><td>50.0")
    assert "rising" in row[:400] and "5.4.0 (90%)" in row[:500]
    versions = section[section.index('id="versions-table"') :]
    assert versions.index("<code>5.4.0</code>") < versions.index("<code>5.3.0</code>")  # 80 vs 10 per 1,000
    assert "<td>80.0</td>" in versions


def test_population_csat_corrects_for_who_answers(report) -> None:
    html, _ = report
    section = " ".join(_section(html, "csat").split())
    # the last window row (day 2): weighted 3.40 (3.20 - 3.60) against a surveyed mean of 3.90
    assert '<span class="value">3.40</span> <span class="ci">95% interval 3.20 – 3.60' in section
    assert (
        "The customers who answered were happier than the rest: the plain survey mean is off by 0.50 points" in section
    )
    assert 'id="chart-population"' in section and "<svg" in section
    calibration = section[section.index('id="calibration-table"') :]
    assert calibration.count("<tr>") == 1 + 10 and "+0.20" in calibration


def test_fairness_flags_the_segment_served_worse(report) -> None:
    html, _ = report
    section = " ".join(_section(html, "fairness").split())
    assert "<strong>1</strong> segment is served markedly worse." in section
    assert "<strong>Channel voice:</strong> error 0.80, 1.60× the overall error, on 100 contacts." in section
    assert "Mean error (CSAT points): 0.50 overall on 300 labelled contacts" in section
    assert "1 segment too small to judge" in section and "channel social" not in section


def test_time_to_value_latest_day_cohorts_and_journeys(report) -> None:
    html, _ = report
    section = " ".join(_section(html, "time_to_value").split())
    low, high = _interval(30, 50)
    cohort = section[section.index(">2026-09-28</th>") :]
    assert cohort.startswith(">2026-09-28</th><td>100</td><td>60</td><td>40</td><td>2.5 days</td><td>9.0 days</td>")
    assert f'60.0%<span class="ci">{low.removesuffix("%")}–{high}' in cohort
    assert ">billing</th><td>70</td><td>50</td><td>20</td><td>40</td><td>70.0%" in section
    assert ">digital</th><td>100</td>" in section and ">2026-09-28</th><td>1</td>" not in section


def test_emerging_topics_new_first(report) -> None:
    html, _ = report
    section = " ".join(_section(html, "topics").split())
    assert section.index("voucher / expired / refund") < section.index("parcel / locker / code")
    assert "<strong>1</strong> new this time." in section and "+200%" in section
    assert "“my voucher expired &lt;script&gt;”" in section  # the customer's words, escaped


def test_qa_scorecards_minimum_sample(report) -> None:
    html, _ = report
    section = " ".join(_section(html, "qa").split())
    assert "Agent agentAAAAA</th><td>30</td><td>80.0%</td><td>50.0%</td><td>80.0%</td>" in section
    assert "agentBBBBB" not in section and "1 agents with fewer scored conversations left out" in section
    # the team: (30 x 0.8 + 5 x 0.2) / 35 = 71.4%; 84 of 120 questions met
    assert "All agents</th><td>35</td><td>71.4%</td><td>10.0%</td><td>70.0%</td>" in section


def test_interventions_clear_effect_only_when_the_interval_excludes_zero(report) -> None:
    html, _ = report
    section = " ".join(_section(html, "interventions").split())
    every = section[section.index("Customers of every alert") :]
    assert '<span class="change good">−20.0 pts</span><span class="ci">−35.0 pts to −5.0 pts</span>' in every
    assert '<span class="change ">−3.0 h</span><span class="ci">no clear effect (−8.0 h to +2.0 h)</span>' in every
    repeat = section[section.index("Customers who contacted us again about an issue") :]
    assert "no clear effect (−20.0 pts to +16.0 pts)" in repeat and "2 held out but acted on anyway" in repeat


def test_summary_lists_what_needs_attention(report) -> None:
    html, _ = report
    attention = _section(html, "summary")
    attention = " ".join(attention[attention.index('id="attention"') :].split())
    assert '<a href="#anomalies">2 unusual channel-days: a figure left its usual range.</a>' in attention
    assert "New or rising defects behind contacts: PaymentSheetTimeout." in attention
    assert "1 new topic customers contact us about." in attention
    assert "A model serves 1 segment markedly worse than the rest." in attention
    assert f"{ALERTS} alerts need a follow-up, {ALERTS // 2} of them urgent." in attention


def test_journey_tiles_open_their_lists(report) -> None:
    html, _ = report
    journeys = _section(html, "friction")
    lists = _section(html, "lists")
    for name, size in (("open", 1), ("pre-contact-friction", 1), ("switching", 1)):
        assert f'href="#list-journeys-{name}"' in journeys
        listed = lists[lists.index(f'id="list-journeys-{name}"') :]
        listed = listed[: listed.index("</details>")]
        assert f"All {size}, most contacts first." in listed and "<code>j0</code>" in listed
    every = lists[lists.index('id="list-journeys-all"') :]
    assert "All 3, most contacts first." in every[: every.index("</details>")]


def test_failure_demand_tile_opens_its_contacts(report) -> None:
    html, _ = report
    tile = _section(html, "failure_demand")
    assert 'href="#list-contacts-failure-demand">See the 2 contacts' in tile
    lists = _section(html, "lists")
    failure = lists[lists.index('id="list-contacts-failure-demand"') :]
    failure = failure[: failure.index("</details>")]
    assert "All 2, costliest first." in failure and failure.count("chasing an open issue") == 2
    assert ">voice-1<" in failure and ">chat-0<" not in failure


def test_defect_pages_merge_ids_in_the_path(report) -> None:
    html, _ = report
    section = " ".join(_section(html, "defects").split())
    # one page template: 2 contacts after 4 sessions
    assert "<code>/orders/{id}/return</code></td><td>2</td><td>0</td><td>500.0" in section
    assert "/orders/123/return" not in section
