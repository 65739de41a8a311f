"""The CX report: one self-contained HTML file built from the published DuckDB file.

Everything is inline - CSS, and charts rendered to SVG by Vega-Lite (altair + vl-convert) at build time - and the
page has no scripts and a Content-Security-Policy that forbids fetching anything, so it opens offline and can be
mailed or archived as it is. Sections whose table is missing or empty say so instead of failing, because the
journey, alert and priority tables arrive with later pipeline stages.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import altair as alt
import duckdb
import jinja2
import pandas as pd
import vl_convert

from cx_signals.db import sql_text

DEFAULT_TITLE = "Customer experience signals"
Z_95 = 1.96
TOP_ALERTS = 20
TOP_PRIORITIES = 15
# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"

# Tables the report reads or reports on, in the order of the small print.
REPORT_TABLES = (
    "metrics.daily_outcomes",
    "metrics.contact_outcomes",
    "metrics.journey_priorities",
    "signals.conversation_signals",
    "signals.session_friction",
    "signals.journeys",
    "signals.friction_alerts",
    "quarantine.rejects",
)

# (key, label, numerator column, what it means)
RATES = (
    ("containment", "Containment", "contained", "Handled by the bot alone: no agent turn, no handoff."),
    (
        "cwq",
        "Containment with quality",
        "contained_with_quality",
        "Contained, no repeat contact, end sentiment not negative, no low CSAT, no digital friction after.",
    ),
    ("fcr", "First-contact resolution", "fcr", "Not abandoned and no repeat contact."),
    ("repeat", "Repeat contact rate", "repeat_contacts", "Same customer and issue contacts again."),
    ("escalation", "Escalation rate", "escalated", "Handed off from the bot to an agent."),
    ("abandonment", "Abandonment rate", "abandoned", "The customer left before an answer."),
)

CWQ_PARTS = (
    ("cwq_failed_repeat", "Repeat contact", "The customer came back about the same issue."),
    ("cwq_failed_sentiment", "Negative end sentiment", "The customer ended the conversation unhappy."),
    ("cwq_failed_csat", "Low CSAT", "The customer answered the survey with a low score."),
    ("cwq_failed_friction", "Digital friction after", "The customer struggled on the website or app afterwards."),
)

# Alert columns a reader acts on (signals.friction_alerts); the rest (ids, value, threshold) are in the reason.
ALERT_COLUMNS = ("alert_at", "severity", "rule", "subject_type", "subject_id", "reason")
# Columns whose values are snake_case codes, shown with spaces.
CODE_COLUMNS = {"rule", "severity", "subject_type", "status"}
# Free-text columns that may wrap; every other column stays on one line.
WRAP_COLUMNS = {"reason", "description", "channels", "conversation_ids"}
MAX_CELL_CHARS = 300
PRIORITY_RANK_COLUMNS = ("priority_rank", "rank")
# The latest day's ranking, with the inputs that explain each rank (metrics.journey_priorities).
PRIORITY_COLUMNS = (
    "rank",
    "intent",
    "score",
    "main_driver",
    "contacts",
    "handoff_rate",
    "transfers_per_contact",
    "repeat_rate",
    "cwq_gap",
    "cost_per_contact",
    "cost_to_resolve_median",
    "cost_to_resolve_total",
)
PRIORITY_SCORE_COLUMNS = ("priority_score", "score")
HIDDEN_COLUMNS = {"partition_date"}
ACRONYMS = {"cwq": "CwQ", "csat": "CSAT", "fcr": "FCR", "id": "ID", "ttr": "TTR"}
NUMERIC_TYPE = re.compile(r"^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|FLOAT|DOUBLE|REAL|DECIMAL|NUMERIC)\b")


@dataclass(frozen=True)
class ReportSummary:
    """What `build_report` wrote: the file, the data period, contacts covered and which sections had data."""

    out: Path
    period_start: date | None
    period_end: date | None
    contacts: int
    sections: dict[str, bool]
    size_bytes: int


def wilson(k: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval for k successes in n trials (the `wilson_low`/`wilson_high` SQL macros)."""
    if n <= 0:
        return None
    p = k / n
    centre = p + z**2 / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    denominator = 1 + z**2 / n
    return max(0.0, (centre - spread) / denominator), min(1.0, (centre + spread) / denominator)


def build_report(db_path: Path, out: Path, title: str = DEFAULT_TITLE) -> ReportSummary:
    """Write the HTML report for the DuckDB file `db_path` (opened read-only) to `out`."""
    if not db_path.is_file():
        raise FileNotFoundError(f"no DuckDB file at {db_path}")
    with duckdb.connect(str(db_path), read_only=True) as con:
        return write_report(con, out, title=title, source=str(db_path))


def write_report(
    con: duckdb.DuckDBPyConnection, out: Path, title: str = DEFAULT_TITLE, source: str = "(connection)"
) -> ReportSummary:
    """Write the report from an open connection (for callers that already hold one); `source` names it."""
    tables = _table_stats(con)
    contacts_ready = _has_rows(tables, "metrics.daily_outcomes") and "metrics.contact_outcomes" in tables
    friction_ready = _has_rows(tables, "signals.session_friction")

    headline = _query(con, "headline") if contacts_ready else []
    overall = next((row for row in headline if row["channel"] is None), None)
    daily = _query(con, "daily") if contacts_ready else []
    charts = _trend_charts(daily, _query(con, "daily_channel") if daily else [])
    friction = (
        {
            "summary": _query(con, "friction_summary")[0],
            "rage_pages": _query(con, "rage_pages"),
            "entry_pages": _query(con, "friction_entry_pages"),
        }
        if friction_ready
        else None
    )
    journeys = _query(con, "journeys_summary")[0] if _has_rows(tables, "signals.journeys") else None
    priorities = _generic_section(
        con,
        tables,
        "metrics.journey_priorities",
        _priority_order,
        TOP_PRIORITIES,
        PRIORITY_COLUMNS,
        where="partition_date = (SELECT max(partition_date) FROM metrics.journey_priorities)",
    )
    alerts = _generic_section(con, tables, "signals.friction_alerts", _alert_order, TOP_ALERTS, ALERT_COLUMNS)
    if alerts and "severity" in tables["signals.friction_alerts"]["columns"]:
        alerts["by_severity"] = con.execute(
            "SELECT severity, count(*) FROM signals.friction_alerts GROUP BY ALL ORDER BY 2 DESC, 1"
        ).fetchall()

    # Rejects can carry any day a broken record claimed, so they do not define the period.
    measured = [t for name, t in tables.items() if not name.startswith("quarantine.") and t["first_day"]]
    starts = [t["first_day"] for t in measured]
    ends = [t["last_day"] for t in measured]
    period = (min(starts), max(ends)) if starts else (None, None)
    sections = {
        "headline": overall is not None,
        "cwq_parts": overall is not None,
        "trends": bool(charts),
        "friction": friction is not None,
        "journey_priorities": priorities is not None,
        "alerts": alerts is not None,
    }
    template = _environment().get_template("report.html.j2")
    html = template.render(
        title=title,
        source=source,
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        period=period,
        overall=_headline_row(overall) if overall else None,
        channels=[_headline_row(row) for row in headline if row["channel"] is not None],
        rates=RATES,
        cwq_parts=_cwq_parts(overall) if overall else None,
        charts=charts,
        friction=_friction_view(friction) if friction else None,
        journeys=_journeys_view(journeys) if journeys else None,
        priorities=priorities,
        alerts=alerts,
        tables=[{"name": name, **stats} for name, stats in tables.items()],
        table_rows={name: stats["rows"] for name, stats in tables.items()},
        missing_tables=[name for name in REPORT_TABLES if name not in tables],
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    staging.write_text(html, encoding="utf-8")
    os.replace(staging, out)  # a reader never sees half a report
    return ReportSummary(
        out=out,
        period_start=period[0],
        period_end=period[1],
        contacts=int(overall["contacts"]) if overall else 0,
        sections=sections,
        size_bytes=out.stat().st_size,
    )


# --- data -----------------------------------------------------------------------------------------------------


def _query(con: duckdb.DuckDBPyConnection, name: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql_text(f"report/{name}"))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    schema, name = table.split(".")
    return dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? "
            "ORDER BY ordinal_position",
            [schema, name],
        ).fetchall()
    )


def _table_stats(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """Rows and first/last partition day of each of REPORT_TABLES that exists."""
    stats = {}
    for table in REPORT_TABLES:
        columns = _columns(con, table)
        if not columns:
            continue
        days = "min(partition_date), max(partition_date)" if "partition_date" in columns else "NULL, NULL"
        rows, first, last = con.execute(f"SELECT count(*), {days} FROM {table}").fetchone()
        stats[table] = {"rows": rows, "first_day": first, "last_day": last, "columns": columns}
    return stats


def _has_rows(tables: dict[str, dict[str, Any]], name: str) -> bool:
    return name in tables and tables[name]["rows"] > 0


def _first_present(columns: dict[str, str], candidates: tuple[str, ...]) -> str | None:
    return next((c for c in candidates if c in columns), None)


def _priority_order(columns: dict[str, str]) -> str:
    if rank := _first_present(columns, PRIORITY_RANK_COLUMNS):
        return f'"{rank}" ASC NULLS LAST'
    if score := _first_present(columns, PRIORITY_SCORE_COLUMNS):
        return f'"{score}" DESC NULLS LAST'
    return "ALL"


def _alert_order(columns: dict[str, str]) -> str:
    when = (
        "alert_at"
        if "alert_at" in columns
        else next((c for c, t in columns.items() if t.startswith("TIMESTAMP")), None)
    )
    return f'"{when}" DESC NULLS LAST' if when else "ALL"


def _generic_section(
    con: duckdb.DuckDBPyConnection,
    tables: dict[str, dict[str, Any]],
    table: str,
    order: Callable[[dict[str, str]], str],
    limit: int,
    preferred: tuple[str, ...] = (),
    where: str = "TRUE",
) -> dict[str, Any] | None:
    """Top rows (matching `where`) of a table another stage defines: its `preferred` columns if it has them, else
    all; None if empty."""
    if not _has_rows(tables, table):
        return None
    types = tables[table]["columns"]
    columns = [c for c in preferred if c in types]
    if not columns:
        rank = _first_present(types, PRIORITY_RANK_COLUMNS)
        columns = sorted((c for c in types if c not in HIDDEN_COLUMNS), key=lambda c: c != rank)
    select = ", ".join(f'"{c}"' for c in columns)
    rows = con.execute(
        f"SELECT {select} FROM {table} WHERE {where} ORDER BY {order(types)} LIMIT {int(limit)}"
    ).fetchall()
    return {
        "total": con.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0],
        "headers": [_label(c) for c in columns],
        "text": [not NUMERIC_TYPE.match(types[c]) for c in columns],
        "wrap": [c in WRAP_COLUMNS for c in columns],
        "rows": [[_cell(c, v) for c, v in zip(columns, row, strict=True)] for row in rows],
    }


# --- formatting -----------------------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _money(value: float | None) -> str:
    return "–" if value is None else f"{value:,.2f}"


def _count(value: int | None) -> str:
    return "–" if value is None else f"{int(value):,}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _label(column: str) -> str:
    words = [ACRONYMS.get(word, word) for word in column.split("_")]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def _cell(column: str, value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | Decimal):
        value = float(value)
        if column.endswith(("_rate", "_share")) and 0 <= value <= 1:
            return f"{value:.1%}"
        if column.endswith("_gap"):  # a difference of two rates, in percentage points
            return f"{100 * value:.1f} pts"
        return f"{value:,.2f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    text = str(value).replace("_", " ") if column in CODE_COLUMNS else str(value)
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


def _rate(k: int, n: int) -> dict[str, Any]:
    interval = wilson(k, n)
    return {
        "value": _pct(k / n if n else None),
        "low": _pct(interval[0]) if interval else "–",
        "high": _pct(interval[1]) if interval else "–",
        "range": f"{interval[0]:.1%}".removesuffix("%") + f"–{interval[1]:.1%}" if interval else "–",
        "k": _count(k),
    }


def _headline_row(row: dict[str, Any]) -> dict[str, Any]:
    n = int(row["contacts"])
    return {
        "channel": row["channel"] or "All channels",
        "contacts": _count(n),
        "rates": {key: _rate(int(row[column]), n) for key, _, column, _ in RATES},
        "cost_per_contact": _money(row["cost_per_contact"]),
        "cost_total": _money(row["cost_total"]),
        "chains_resolved": _count(row["chains_resolved"]),
        "cost_to_resolve_median": _money(row["cost_to_resolve_median"]),
        "cost_to_resolve_p90": _money(row["cost_to_resolve_p90"]),
        "time_to_resolve_median": _duration(row["time_to_resolve_median_seconds"]),
        "surveyed": _count(row["surveyed"]),
        "csat_mean": "–" if row["csat_mean"] is None else f"{row['csat_mean']:.2f}",
    }


def _cwq_parts(overall: dict[str, Any]) -> dict[str, Any]:
    contained = int(overall["contained"])
    parts = [
        {
            "label": label,
            "help": help_text,
            "count": _count(overall[column]),
            "share": _pct(overall[column] / contained if contained else None),
        }
        for column, label, help_text in CWQ_PARTS
    ]
    return {
        "contained": _count(contained),
        "with_quality": _count(overall["contained_with_quality"]),
        "failed": _count(contained - int(overall["contained_with_quality"])),
        "parts": parts,
    }


def _friction_view(friction: dict[str, Any]) -> dict[str, Any]:
    summary = friction["summary"]
    sessions = int(summary["sessions"])
    return {
        "sessions": _count(sessions),
        "with_friction": _rate(int(summary["sessions_with_friction"]), sessions),
        "with_rage": _count(summary["sessions_with_rage"]),
        "rage_click_bursts": _count(summary["rage_click_bursts"]),
        "dead_clicks": _count(summary["dead_clicks"]),
        "error_clicks": _count(summary["error_clicks"]),
        "form_errors": _count(summary["form_errors"]),
        "crashes": _count(summary["crashes"]),
        "friction_then_contact": _count(summary["friction_sessions_with_contact"]),
        "rage_pages": [
            {
                "page": row["page"],
                "sessions": _count(row["sessions"]),
                "bursts": _count(row["rage_click_bursts"]),
                "contacted": _count(row["sessions_with_contact"]),
            }
            for row in friction["rage_pages"]
        ],
        "entry_pages": [
            {
                "page": row["page"],
                "sessions": _count(row["sessions"]),
                "with_friction": _count(row["sessions_with_friction"]),
                "share": _pct(row["sessions_with_friction"] / row["sessions"]),
                "dead_clicks": _count(row["dead_clicks"]),
                "error_clicks": _count(row["error_clicks"]),
                "form_errors": _count(row["form_errors"]),
            }
            for row in friction["entry_pages"]
        ],
    }


def _journeys_view(journeys: dict[str, Any]) -> dict[str, Any]:
    n = int(journeys["journeys"])
    return {
        "journeys": _count(n),
        "pre_contact_friction": _rate(int(journeys["journeys_with_pre_contact_friction"]), n),
        "failure_demand_contacts": _count(journeys["failure_demand_contacts"]),
        "contacts": _count(journeys["contacts"]),
        "open": _count(journeys["open_journeys"]),
        "switching": _rate(int(journeys["journeys_switching_channel"]), n),
    }


# --- charts ---------------------------------------------------------------------------------------------------


def _svg(chart: alt.TopLevelMixin) -> str:
    """The chart as inline SVG; no external data may be fetched while rendering."""
    svg = vl_convert.vegalite_to_svg(chart.to_dict(), allowed_base_urls=[])
    # HTML puts inline <svg> in the SVG namespace itself; dropping the declarations leaves no URL in the page.
    return re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", svg, count=2)


def _configure(chart: alt.TopLevelMixin, description: str) -> alt.TopLevelMixin:
    return (
        chart.properties(width=460, height=220, description=description)
        .configure(font=FONT, background="white")
        .configure_view(stroke=None)
        .configure_axis(labelFontSize=12, titleFontSize=12, gridColor="#e6e8eb", domainColor="#9aa1a9")
        .configure_legend(labelFontSize=12, titleFontSize=12, orient="bottom", columnPadding=28, symbolType="stroke")
    )


def _day_axis(kind: str = "T") -> alt.X:
    return alt.X(
        f"day:{kind}",
        timeUnit="utcyearmonthdate",
        title=None,
        axis=alt.Axis(format="%b %d", labelAngle=0, labelOverlap=True),
    )


def _trend_charts(daily: list[dict[str, Any]], day_channel: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The trend figures: SVG, title, caption and the same data as a table for screen readers."""
    charts = [_rates_chart(daily)] if daily else []
    if any(row["cost_to_resolve_median"] is not None for row in daily):
        charts.append(_cost_chart(daily))
    if day_channel:
        charts.append(_volume_chart(day_channel))
    return charts


def _rates_chart(daily: list[dict[str, Any]]) -> dict[str, Any]:
    measures = (("Containment", "contained"), ("Containment with quality", "contained_with_quality"))
    points = []
    for row in daily:
        n = int(row["contacts"])
        for measure, column in measures:
            k = int(row[column])
            low, high = wilson(k, n)
            points.append(
                {"day": row["partition_date"].isoformat(), "measure": measure, "rate": k / n, "low": low, "high": high}
            )
    colours = alt.Scale(range=list(PALETTE[:2]))
    base = alt.Chart(pd.DataFrame(points)).encode(x=_day_axis())
    chart = alt.layer(
        base.mark_area(opacity=0.18).encode(
            y=alt.Y("low:Q"), y2="high:Q", fill=alt.Fill("measure:N", scale=colours, legend=None)
        ),
        base.mark_line(point=True, strokeWidth=2).encode(
            y=alt.Y("rate:Q", title="Share of contacts", axis=alt.Axis(format="%")),
            color=alt.Color("measure:N", title=None, scale=colours),
        ),
    )
    rows = []
    for row in daily:
        rates = [_rate(int(row[column]), int(row["contacts"])) for _, column in measures]
        rows.append(
            [row["partition_date"].isoformat(), _count(row["contacts"])]
            + [cell for rate in rates for cell in (rate["value"], rate["range"])]
        )
    return {
        "id": "chart-rates",
        "title": "Containment and containment with quality, per day",
        "caption": "Lines are the day's rate; shaded bands are 95% Wilson intervals (wide on quiet days).",
        "svg": _svg(_configure(chart, "Daily containment and containment-with-quality rates")),
        "headers": ["Day", "Contacts", "Containment", "95% interval", "With quality", "95% interval"],
        "text": [True, False, False, False, False, False],
        "rows": rows,
    }


def _cost_chart(daily: list[dict[str, Any]]) -> dict[str, Any]:
    statistics = (("Median", "cost_to_resolve_median"), ("90th percentile", "cost_to_resolve_p90"))
    points = [
        {"day": row["partition_date"].isoformat(), "statistic": statistic, "cost": row[column]}
        for row in daily
        for statistic, column in statistics
        if row[column] is not None
    ]
    order = [statistic for statistic, _ in statistics]
    chart = (
        alt.Chart(pd.DataFrame(points))
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x=_day_axis(),
            y=alt.Y("cost:Q", title="Cost to resolve"),
            color=alt.Color("statistic:N", title=None, scale=alt.Scale(domain=order, range=[PALETTE[2], PALETTE[5]])),
            strokeDash=alt.StrokeDash("statistic:N", title=None, scale=alt.Scale(domain=order, range=[[1, 0], [5, 3]])),
        )
    )
    return {
        "id": "chart-cost",
        "title": "Cost to resolve, per day",
        "caption": "Cost of every contact in a resolved repeat chain, on the day the chain was resolved.",
        "svg": _svg(_configure(chart, "Daily median and 90th percentile cost to resolve")),
        "headers": ["Day", "Chains resolved", "Median", "90th percentile"],
        "text": [True, False, False, False],
        "rows": [
            [row["partition_date"].isoformat(), _count(row["chains_resolved"])]
            + [_money(row[column]) for _, column in statistics]
            for row in daily
        ],
    }


def _volume_chart(day_channel: list[dict[str, Any]]) -> dict[str, Any]:
    points = [
        {"day": row["partition_date"].isoformat(), "channel": row["channel"], "contacts": int(row["contacts"])}
        for row in day_channel
    ]
    chart = (
        alt.Chart(pd.DataFrame(points))
        .mark_bar()
        .encode(
            x=_day_axis("O"),
            y=alt.Y("sum(contacts):Q", title="Contacts"),
            color=alt.Color(
                "channel:N", title=None, scale=alt.Scale(range=list(PALETTE)), legend=alt.Legend(symbolType="square")
            ),
            order=alt.Order("channel:N"),
        )
    )
    return {
        "id": "chart-volume",
        "title": "Contacts per channel, per day",
        "caption": "Consented contacts by the day they started.",
        "svg": _svg(_configure(chart, "Daily contacts stacked by channel")),
        "headers": ["Day", "Channel", "Contacts"],
        "text": [True, True, False],
        "rows": [[p["day"], p["channel"], _count(p["contacts"])] for p in points],
    }


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
