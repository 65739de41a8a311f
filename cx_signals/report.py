"""The CX report: one self-contained HTML file built from the published DuckDB file.

Everything is inline - CSS, and charts rendered to SVG by Vega-Lite (altair + vl-convert) at build time - and the
page has no scripts and a Content-Security-Policy that forbids fetching anything, so it opens offline and can be
mailed or archived as it is. Sections whose table is missing or empty say so instead of failing, because tables
arrive with later pipeline stages.

The report covers the last `report.period_days` days with data and compares every headline figure with the same
number of days before them. Each section is a `Block`: a SQL file in `sql/report/`, a template in
`templates/sections/` and a function turning the rows into what the template shows; adding a section is one of each
and an entry in BLOCKS. Every tile links to the contacts or journeys behind it, listed in the same file.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import altair as alt
import duckdb
import jinja2
import pandas as pd
import vl_convert

from cx_signals.config import CONFIG_ENV_VAR, Parameters, Target, TargetsParameters, load_config, sql_parameters
from cx_signals.db import sql_text

DEFAULT_TITLE = "Customer experience signals"
Z_95 = 1.96
TOP_PRIORITIES = 15
# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"

# Tables the report reads or reports on, in the order of the small print.
REPORT_TABLES = (
    "metrics.daily_outcomes",
    "metrics.contact_outcomes",
    "metrics.journey_priorities",
    "metrics.outcome_anomalies",
    "metrics.agent_daily",
    "metrics.failure_demand",
    "metrics.defects",
    "metrics.csat_population",
    "metrics.csat_calibration",
    "metrics.model_fairness",
    "metrics.time_to_value",
    "metrics.qa_scores",
    "metrics.intervention_effects",
    "metrics.alert_rule_precision",
    "metrics.next_issues",
    "metrics.intent_transitions",
    "signals.bot_outcomes",
    "signals.compliance",
    "signals.emerging_topics",
    "signals.conversation_signals",
    "signals.session_friction",
    "signals.journeys",
    "signals.friction_alerts",
    "quarantine.rejects",
)


@dataclass(frozen=True)
class Metric:
    """A headline figure: how it is computed from a period's counts, which way is better, and the list behind it.

    A ratio is sum(numerator) / sum(denominator) over the period (so its change splits into each channel's or
    intent's part); a median (numerator None) is read from the `key` column of the headline row."""

    key: str
    tile: str
    label: str
    kind: Literal["rate", "money", "score"]
    numerator: str | None
    denominator: str
    higher_is_better: bool
    contact_list: str
    help: str


METRICS = (
    Metric("containment_rate", "containment", "Containment", "rate", "contained", "contacts", True,
           "not_contained", "Handled by the bot alone: no agent turn, no handoff."),
    Metric("cwq_rate", "cwq", "Containment with quality", "rate", "contained_with_quality", "contacts", True,
           "cwq_failed",
           "Contained, no repeat contact, end sentiment not negative, no low CSAT, no digital friction after."),
    Metric("fcr_rate", "fcr", "First-contact resolution", "rate", "fcr", "contacts", True, "fcr_missed",
           "Not abandoned and no repeat contact."),
    Metric("repeat_rate", "repeat", "Repeat contact rate", "rate", "repeat_contacts", "contacts", False, "repeat",
           "Same customer and issue contacts again."),
    Metric("escalation_rate", "escalation", "Escalation rate", "rate", "escalated", "contacts", False, "escalated",
           "Handed off from the bot to an agent."),
    Metric("abandonment_rate", "abandonment", "Abandonment rate", "rate", "abandoned", "contacts", False,
           "abandoned", "The customer left before an answer."),
    Metric("cost_per_contact", "cost", "Cost per contact", "money", "cost_total", "contacts", False, "all",
           "Bot, agent time, wrap-up and transfers."),
    Metric("cost_to_resolve_median", "ctr", "Cost to resolve (median)", "money", None, "chains_resolved", False,
           "resolved", "All contacts of an issue until resolved."),
    Metric("csat_mean", "csat", "CSAT (surveyed)", "score", "csat_total", "surveyed", True, "low_csat",
           "Mean survey score, 1 to 5, of the customers who answered."),
    Metric("predicted_csat_mean", "predicted-csat", "Predicted CSAT", "score", "predicted_csat_total", "predicted",
           True, "low_csat", "Mean CSAT the model predicts for every contact, surveyed or not (1 to 5)."),
)  # fmt: skip
METRIC = {m.key: m for m in METRICS}
# (tile, label, numerator column, what it means) of the rates, as the channel table shows them.
RATES = tuple((m.tile, m.label, m.numerator, m.help) for m in METRICS if m.kind == "rate")

CWQ_PARTS = (
    ("cwq_failed_repeat", "Repeat contact", "The customer came back about the same issue."),
    ("cwq_failed_sentiment", "Negative end sentiment", "The customer ended the conversation unhappy."),
    ("cwq_failed_csat", "Low CSAT", "The customer answered the survey with a low score."),
    ("cwq_failed_friction", "Digital friction after", "The customer struggled on the website or app afterwards."),
)

# The lists behind the tiles (sql/report/contact_lists.sql, journey_lists.sql): list -> (title, order).
CONTACT_LISTS = {
    "all": ("All contacts", "costliest first"),
    "not_contained": ("Contacts the bot did not handle alone", "costliest first"),
    "cwq_failed": ("Contained contacts that missed “with quality”", "costliest first"),
    "fcr_missed": ("Contacts not resolved at first contact", "costliest first"),
    "repeat": ("Contacts followed by a repeat contact", "costliest first"),
    "escalated": ("Contacts handed from the bot to an agent", "costliest first"),
    "abandoned": ("Contacts the customer abandoned", "costliest first"),
    "resolved": ("Issues resolved in the period, by cost to resolve", "costliest issue first"),
    "low_csat": ("Contacts scored 2 or less (surveyed, else predicted)", "lowest score first"),
    "failure_demand": ("Failure demand: contacts caused by a failure", "costliest first"),
    "bot_failed": ("Bot conversations that failed", "most bot repeats, then costliest first"),
    "bot_abandoned": ("Bot conversations the customer left", "most bot repeats, then costliest first"),
    "bot_escalated": ("Bot conversations handed to an agent", "most bot repeats, then costliest first"),
    "bot_loops": ("Bot conversations where the bot repeated itself", "most repeats, then costliest first"),
    "disclosure_missing": ("Conversations missing a required disclosure", "most disclosures missing, then costliest"),
    "disclosure_late": ("Conversations with a required disclosure said late", "most said late, then costliest"),
}
# The SQL files beyond contact_lists.sql that add lists of contacts, by the table each reads.
EXTRA_CONTACT_LISTS = {"bot_lists": "signals.bot_outcomes", "compliance_lists": "signals.compliance"}
JOURNEY_LISTS = {
    "all": ("All journeys", "most contacts first"),
    "open": ("Journeys still open", "most contacts first"),
    "pre_contact_friction": ("Journeys that began with digital friction", "most contacts first"),
    "switching": ("Journeys that switched channel", "most contacts first"),
}

# Alerts in business words: rule -> (what happened to the customer, what to do). The rule and its threshold stay
# in the alert's detail.
ALERT_WORDING = {
    "sentiment_drop_with_escalation": (
        "became upset during a conversation and asked for a manager or to complain",
        "Have a senior agent call the customer back today, before the issue is closed.",
    ),
    "rage_then_help": (
        "struggled on a checkout or payment page, clicking repeatedly, and then looked for help",
        "Reach out before they give up on the purchase; have the page's owner check it for a fault.",
    ),
    "repeat_contact_open_journey": (
        "contacted us again about an issue that is still not resolved",
        "Give the issue one owner who resolves it end to end and tells the customer.",
    ),
    "friction_before_contact": (
        "contacted us right after struggling on the website or app",
        "Acknowledge the online problem in the reply; send the failing step to the digital team.",
    ),
}

# Columns whose values are snake_case codes, shown with spaces.
CODE_COLUMNS = {"rule", "severity", "subject_type", "status"}
# Free-text columns that may wrap; every other column stays on one line.
WRAP_COLUMNS = {"reason", "description", "channels", "conversation_ids", "what_happened", "utterance"}
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
# metrics.outcome_anomalies metrics: (words, kind, whether a rise is worse for customers).
ANOMALY_METRICS = {
    "containment_rate": ("containment", "rate", False),
    "cwq_rate": ("containment with quality", "rate", False),
    "cost_to_resolve_median": ("the median cost to resolve", "money", True),
    "defect_contacts": ("contacts after the defect", "count", True),
}


@dataclass(frozen=True)
class ReportSummary:
    """What `build_report` wrote: the file, the period reported, contacts covered and which sections had data."""

    out: Path
    period_start: date | None
    period_end: date | None
    contacts: int
    sections: dict[str, bool]
    size_bytes: int


@dataclass(frozen=True)
class Period:
    """The reported days and the same number of days before them (UTC, inclusive)."""

    start: date
    end: date
    previous_start: date
    previous_end: date
    days: int

    def label(self, previous: bool = False) -> str:
        """E.g. '24 Sep – 30 Sep 2026'."""
        start, end = (self.previous_start, self.previous_end) if previous else (self.start, self.end)
        return f"{start.strftime('%d %b')} – {end.strftime('%d %b %Y')}"


@dataclass
class Context:
    """What every block's build function reads: the connection, the tables present, the config and the period."""

    con: duckdb.DuckDBPyConnection
    tables: dict[str, dict[str, Any]]
    parameters: Parameters
    period: Period | None
    views: dict[str, Any] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)

    def has_rows(self, table: str) -> bool:
        """The table exists and holds rows."""
        return _has_rows(self.tables, table)

    def query(self, name: str, previous: bool = False) -> list[dict[str, Any]]:
        """Rows of sql/report/<name>.sql over the period (or the previous one), config values bound."""
        assert self.period is not None
        start, end = (
            (self.period.previous_start, self.period.previous_end) if previous else (self.period.start, self.period.end)
        )
        return _query(self.con, name, {**self._bound(name), "start_date": start, "end_date": end})

    def _bound(self, name: str) -> dict[str, Any]:
        text = re.sub(r"--[^\n]*", "", sql_text(f"report/{name}"))
        wanted = set(re.findall(r"\$([A-Za-z_]\w*)", text))
        return {k: v for k, v in sql_parameters(self.parameters).items() if k in wanted}


@dataclass(frozen=True)
class Block:
    """One section of the report: its anchor and nav label, the table it needs, and `build` turning the data into
    what `templates/sections/<key>.html.j2` shows (None when there is nothing to show)."""

    key: str
    nav: str
    table: str
    build: Callable[[Context], Any]
    empty: str = "Nothing has been computed yet."
    summarises: bool = False


def wilson(k: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval for k successes in n trials (the `wilson_low`/`wilson_high` SQL macros)."""
    if n <= 0:
        return None
    p = k / n
    centre = p + z**2 / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    denominator = 1 + z**2 / n
    return max(0.0, (centre - spread) / denominator), min(1.0, (centre + spread) / denominator)


def two_proportion_z(k1: int, n1: int, k2: int, n2: int) -> float | None:
    """z statistic of the difference k2/n2 - k1/n1 under a pooled proportion; None without contacts or variance."""
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (k1 + k2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    return None if variance <= 0 else (k2 / n2 - k1 / n1) / math.sqrt(variance)


def report_period(last_day: date, first_day: date, days: int) -> Period:
    """The `days` days ending on `last_day` (not before `first_day`) and the same number of days before them."""
    start = max(first_day, last_day - timedelta(days=days - 1))
    previous_end = last_day - timedelta(days=days)
    return Period(start, last_day, previous_end - timedelta(days=days - 1), previous_end, days)


def target_status(
    target: Target, value: float | None, change: float | None, interval: tuple[float, float] | None
) -> tuple[str, str]:
    """(status, why) of a figure against its target: 'missed' when it does not meet it; 'at risk' when it meets it
    but its 95% interval reaches the target or the same change again would miss it; else 'met'."""
    if value is None:
        return "no data", "No value in the period."
    at_least = target.direction == "at_least"

    def meets(x: float) -> bool:
        return x >= target.target if at_least else x <= target.target

    if not meets(value):
        return "missed", "The period's value does not meet the target."
    if interval is not None and not (meets(interval[0]) and meets(interval[1])):
        return "at risk", "Met, but the 95% interval reaches the target: it may be luck of the sample."
    if change is not None and not meets(value + change):
        return "at risk", "Met, but the same change again next period would miss it."
    return "met", "Meets the target with room to spare."


def build_report(
    db_path: Path, out: Path, title: str = DEFAULT_TITLE, parameters: Parameters | None = None
) -> ReportSummary:
    """Write the HTML report for the DuckDB file `db_path` (opened read-only) to `out`; `parameters` default to the
    config named by $CX_SIGNALS_CONFIG, else the defaults."""
    if not db_path.is_file():
        raise FileNotFoundError(f"no DuckDB file at {db_path}")
    parameters = parameters or load_config(os.environ.get(CONFIG_ENV_VAR) or None)
    with duckdb.connect(str(db_path), read_only=True) as con:
        return write_report(con, out, title=title, source=str(db_path), parameters=parameters)


def write_report(
    con: duckdb.DuckDBPyConnection,
    out: Path,
    title: str = DEFAULT_TITLE,
    source: str = "(connection)",
    parameters: Parameters | None = None,
) -> ReportSummary:
    """Write the report from an open connection (for callers that already hold one); `source` names it."""
    parameters = parameters or load_config()
    tables = _table_stats(con)
    period = None
    if _has_rows(tables, "metrics.daily_outcomes"):
        daily = tables["metrics.daily_outcomes"]
        period = report_period(daily["last_day"], daily["first_day"], parameters.report.period_days)
    context = Context(con, tables, parameters, period)
    # A block that summarises others (the executive summary) is built after them.
    for block in sorted(BLOCKS, key=lambda b: b.summarises):
        context.views[block.key] = block.build(context) if period and context.has_rows(block.table) else None

    headline = context.views.get("headline")
    sections = {block.key: context.views[block.key] is not None for block in BLOCKS}
    template = _environment().get_template("report.html.j2")
    html = template.render(
        title=title,
        source=source,
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        period=period,
        blocks=BLOCKS,
        views=context.views,
        rates=RATES,
        top_rows=parameters.report.top_rows,
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
        period_start=period.start if period else None,
        period_end=period.end if period else None,
        contacts=headline["contacts_n"] if headline else 0,
        sections=sections,
        size_bytes=out.stat().st_size,
    )


# --- blocks -----------------------------------------------------------------------------------------------------


def _figures(ctx: Context) -> dict[str, Any]:
    """The headline rows of the period and the previous one, and every metric's value, change and driver."""
    if "figures" in ctx.cache:
        return ctx.cache["figures"]
    periods = {"current": ctx.query("headline"), "previous": ctx.query("headline", previous=True)}
    overall, before = (next((row for row in rows if row["dimension"] == "all"), None) for rows in periods.values())
    segments = {when: [row for row in rows if row["dimension"] != "all"] for when, rows in periods.items()}
    changes = {m.key: _change(m, overall, before, segments, ctx.parameters) for m in METRICS}
    # the headline's rows: each channel, then all channels (channel None)
    current = [
        {**row, "channel": row["segment"] if row["dimension"] == "channel" else None}
        for row in periods["current"]
        if row["dimension"] != "intent"
    ]
    overall = current[-1] if overall else None
    figures = {"current": current, "overall": overall, "previous": before, "changes": changes}
    ctx.cache["figures"] = figures
    return figures


def _value(metric: Metric, row: dict[str, Any] | None) -> float | None:
    if row is None:
        return None
    if metric.numerator is None:
        value = row[metric.key]
        return None if value is None else float(value)
    denominator = row[metric.denominator] or 0
    return float(row[metric.numerator]) / float(denominator) if denominator else None


def _format(metric: Metric, value: float | None) -> str:
    if value is None:
        return "–"
    if metric.kind == "rate":
        return _pct(value)
    if metric.kind == "money":
        return _money(value)
    return f"{value:.2f}"


def _change(
    metric: Metric,
    now: dict[str, Any] | None,
    before: dict[str, Any] | None,
    segments: dict[str, list[dict[str, Any]]],
    parameters: Parameters,
) -> dict[str, Any]:
    """A metric's value now and before, the change in words, whether it is better, material and what drove it."""
    value, old = _value(metric, now), _value(metric, before)
    result: dict[str, Any] = {"value": value, "previous": old, "delta": None, "text": "no earlier period"}
    if value is None or old is None:
        if value is not None and before is not None:
            result["text"] = "no value in the previous period"
        return result
    delta = value - old
    z = None
    if metric.kind == "rate":
        n1, n2 = int(before["contacts"]), int(now["contacts"])
        z = two_proportion_z(int(before[metric.numerator]), n1, int(now[metric.numerator]), n2)
        text = f"{100 * delta:+.1f} pts"
        material = abs(100 * delta) >= parameters.report.min_change_points and z is not None and abs(z) >= Z_95
        size = abs(z) if z is not None else 0.0
    else:
        relative = delta / abs(old) if old else None
        text = f"{delta:+,.2f}" + (f", {relative:+.0%}" if relative is not None else "")
        material = relative is not None and abs(relative) >= parameters.report.min_relative_change
        size = abs(relative or 0.0) * 10  # ranks a 10% move of a cost or score like a rate change with z = 1
    better = None if delta == 0 else (delta > 0) == metric.higher_is_better
    result.update(
        delta=delta,
        text=text.replace("-", "−"),
        better=better,
        material=material,
        size=size,
        z=z,
        verb=("rose" if delta > 0 else "fell") if delta else "held",
        driver=_driver(metric, delta, now, before, segments) if material else None,
    )
    return result


def _driver(
    metric: Metric,
    delta: float,
    now: dict[str, Any],
    before: dict[str, Any],
    segments: dict[str, list[dict[str, Any]]],
) -> str | None:
    """The channel or intent that explains most of a change, in words; None when the data shows no single one.

    A ratio's change splits exactly into each segment's part, num_now(s)/den_now - num_before(s)/den_before; a median
    cannot be split, so the segment whose own median moved most (weighted by its resolved issues) is named."""
    old_rows = {(r["dimension"], r["segment"]): r for r in segments["previous"]}
    new_rows = {(r["dimension"], r["segment"]): r for r in segments["current"]}
    keys = sorted(set(old_rows) | set(new_rows))
    # A dimension with one segment (a single channel) says nothing about where the change came from.
    informative = {d for d in {k[0] for k in keys} if sum(1 for k in keys if k[0] == d) > 1}
    best: tuple[float, tuple[str, str]] | None = None
    for key in (k for k in keys if k[0] in informative):
        new, old = new_rows.get(key), old_rows.get(key)
        if metric.numerator is None:
            if not (new and old) or new[metric.key] is None or old[metric.key] is None:
                continue
            weight = float(new[metric.key] - old[metric.key]) * int(new["chains_resolved"])
        else:
            den_now, den_before = float(now[metric.denominator] or 0), float(before[metric.denominator] or 0)
            part_now = float(new[metric.numerator]) / den_now if new and den_now else 0.0
            part_before = float(old[metric.numerator]) / den_before if old and den_before else 0.0
            weight = part_now - part_before
        if weight * delta > 0 and (best is None or abs(weight) > best[0]):
            best = (abs(weight), key)
    if best is None:
        return None
    dimension, segment = best[1]
    new, old = new_rows.get(best[1]), old_rows.get(best[1])
    own = f"its own {metric.label[0].lower() + metric.label[1:]}"
    if metric.numerator is None:
        return (
            f"Most of it comes from {segment} ({dimension}): {own} went from {_format(metric, _value(metric, old))} "
            f"to {_format(metric, _value(metric, new))}."
        )
    share = best[0] / abs(delta)
    volume = f"{_count(old['contacts'] if old else 0)} → {_count(new['contacts'] if new else 0)} contacts"
    rates = f"{_format(metric, _seg_value(metric, old))} → {_format(metric, _seg_value(metric, new))}"
    lead = "Most of it" if share >= 0.5 else f"The largest part ({share:.0%})"
    return f"{lead} comes from {segment} ({dimension}): {own} {rates}, on {volume}."


def _seg_value(metric: Metric, row: dict[str, Any] | None) -> float | None:
    return _value(metric, row) if row else None


def _summary_block(ctx: Context) -> dict[str, Any] | None:
    figures = _figures(ctx)
    if figures["overall"] is None:
        return None
    changes = figures["changes"]
    movements = sorted(
        (dict(changes[m.key], metric=m) for m in METRICS if changes[m.key].get("material")),
        key=lambda c: -c["size"],
    )
    for movement in movements:
        m = movement["metric"]
        movement["sentence"] = (
            f"{m.label} {movement['verb']} from {_format(m, movement['previous'])} "
            f"to {_format(m, movement['value'])} ({movement['text']})"
        )
    targets = _targets(ctx.parameters.targets, figures)
    counts = {s: sum(1 for t in targets if t["status"] == s) for s in ("met", "at risk", "missed")}
    return {
        "attention": _attention(ctx.views),
        "movements": movements[:5],
        "more_movements": max(0, len(movements) - 5),
        "has_previous": figures["previous"] is not None,
        "targets": targets,
        "target_counts": counts,
    }


def _attention(views: dict[str, Any]) -> list[tuple[str, str]]:
    """(anchor, sentence) of what the other sections found that needs a reader's attention."""
    items = []
    if (anomalies := views.get("anomalies")) and anomalies["anomalies"]:
        n = anomalies["anomalies"]
        items.append(("anomalies", f"{n} unusual channel-day{'s' if n != 1 else ''}: a figure left its usual range."))
    if (
        (failure := views.get("failure_demand"))
        and failure["change"].get("material")
        and not failure["change"]["better"]
    ):
        items.append(
            ("failure_demand", f"Failure demand rose to {failure['share']['value']} ({failure['change']['text']}).")
        )
    if defects := views.get("defects"):
        rising = [d["defect"] for d in defects["defects"] if d["worse"]]
        if rising:
            shown = ", ".join(rising[:3]) + (f" and {len(rising) - 3} more" if len(rising) > 3 else "")
            items.append(("defects", f"New or rising defects behind contacts: {shown}."))
    if (topics := views.get("topics")) and topics["new"]:
        n = topics["new"]
        items.append(("topics", f"{n} new topic{'s' if n != 1 else ''} customers contact us about."))
    if (fairness := views.get("fairness")) and fairness["flagged"]:
        n = fairness["flagged"]
        items.append(("fairness", f"A model serves {n} segment{'s' if n != 1 else ''} markedly worse than the rest."))
    if bots := views.get("bots"):
        failed = next(t for t in bots["tiles"] if t["id"] == "kpi-bot-failed")
        if failed["change"]["material"] and not failed["change"]["better"]:
            items.append(("bots", f"Bot failures rose to {failed['rate']['value']} ({failed['change']['text']})."))
    if (next_issues := views.get("next_issues")) and next_issues["compared"]:
        change = next_issues["overall"]["change"]
        if change["material"] and not change["better"]:
            rate = next_issues["overall"]["rate"]["value"]
            items.append(
                (
                    "next_issues",
                    f"More customers came back about another reason: {rate} of the contacts of "
                    f"{next_issues['period'].label()} ({change['text']}).",
                )
            )
    if (compliance := views.get("compliance")) and compliance["missing_n"]:
        items.append(
            (
                "compliance",
                f"A required disclosure was not said in {compliance['conversations_missing']['k']} conversations "
                f"({compliance['missing']['value']} of the checks).",
            )
        )
    if (alerts := views.get("alerts")) and alerts["total"]:
        urgent = sum(r["high"] for r in alerts["rules"])
        items.append(("alerts", f"{alerts['total']:,} alerts need a follow-up, {urgent:,} of them urgent."))
    return items


def _targets(targets: TargetsParameters, figures: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    overall = figures["overall"]
    for key, target in targets:
        if target is None:
            continue
        metric, change = METRIC[key], figures["changes"][key]
        interval = None
        if metric.kind == "rate":
            interval = wilson(int(overall[metric.numerator]), int(overall["contacts"]))
        status, why = target_status(target, change["value"], change["delta"], interval)
        rows.append(
            {
                "metric": metric,
                "target": ("at least " if target.direction == "at_least" else "at most ")
                + _format(metric, target.target),
                "value": _format(metric, change["value"]),
                "change": change,
                "status": status,
                "why": why,
            }
        )
    return rows


def _headline_block(ctx: Context) -> dict[str, Any] | None:
    figures = _figures(ctx)
    overall = figures["overall"]
    if overall is None:
        return None
    lists = _contact_lists(ctx)
    tiles = []
    for m in METRICS:
        change = figures["changes"][m.key]
        tile = {
            "metric": m,
            "value": _format(m, change["value"]),
            "change": change,
            "list": m.contact_list,
            "listed": lists["sizes"].get(m.contact_list, 0),
            "rate": None,
        }
        if m.kind == "rate":
            tile["rate"] = _rate(int(overall[m.numerator]), int(overall["contacts"]))
        tiles.append(tile)
    targets = {t["metric"].key: t for t in _targets(ctx.parameters.targets, figures)}
    return {
        "contacts_n": int(overall["contacts"]),
        "overall": _headline_row(overall),
        "channels": [_headline_row(row) for row in figures["current"] if row["channel"] is not None],
        "tiles": tiles,
        "targets": targets,
        "all_listed": lists["sizes"].get("all", 0),
    }


def _cwq_block(ctx: Context) -> dict[str, Any] | None:
    overall = _figures(ctx)["overall"]
    return _cwq_parts(overall) if overall else None


def _trends_block(ctx: Context) -> list[dict[str, Any]] | None:
    daily = _query(ctx.con, "daily")
    return _trend_charts(daily, _query(ctx.con, "daily_channel"), ctx.period) or None


def _anomalies_block(ctx: Context) -> dict[str, Any] | None:
    rows = ctx.query("anomalies")
    items = []
    for row in (r for r in rows if r["metric"] is not None):
        words, kind, up_is_worse = ANOMALY_METRICS.get(row["metric"], (row["metric"].replace("_", " "), "count", True))
        show = {"rate": _pct, "money": _money}.get(kind, lambda v: f"{v:,.1f}")
        channel = "all channels" if row["channel"] == "all" else row["channel"]
        subject = f"{words[0].upper() + words[1:]}" + (f" {row['defect']}" if row["defect"] else "")
        items.append(
            {
                "day": row["partition_date"].strftime("%a %d %b"),
                "channel": channel,
                "sentence": (
                    f"{subject} on {channel} {'rose' if row['direction'] == 'up' else 'fell'} "
                    f"to {show(row['value'])}, against a usual {show(row['baseline'])} "
                    f"(normal range {show(row['lower_bound'])} – {show(row['upper_bound'])})."
                ),
                "worse": (row["direction"] == "up") == up_is_worse,
                "size": (f"{100 * row['move']:+.1f} pts" if kind == "rate" else f"{row['move']:+,.2f}").replace(
                    "-", "−"
                ),
                "detail": (
                    f"metrics.outcome_anomalies: {row['metric']} = {row['value']:.4g}, baseline {row['baseline']:.4g}, "
                    f"robust z {row['robust_z']:+.1f}, bounds [{row['lower_bound']:.4g}, {row['upper_bound']:.4g}], "
                    f"sample {row['sample_size']:,}"
                ),
            }
        )
    counts = rows[0]
    return {
        "found": items,
        "anomalies": int(counts["anomalies"]),
        "judged": int(counts["judged"]),
        "rows": int(counts["channel_days"]),
    }


def _agents_block(ctx: Context) -> dict[str, Any] | None:
    rows = ctx.query("agents")
    team = next((row for row in rows if row["agent_key"] is None), None)
    agents = [row for row in rows if row["agent_key"] is not None]
    if team is None or not agents:
        return None
    report, fairness = ctx.parameters.report, ctx.parameters.fairness
    shown = [row for row in agents if row["conversations"] >= report.agent_min_conversations]
    top = shown[: report.top_rows]

    def view(row: dict[str, Any], name: str) -> dict[str, Any]:
        conversations = int(row["conversations"])
        reliable = (row["sentiment_lift_conversations"] or 0) >= fairness.agent_min_sentiment_conversations
        surveyed = (row["surveyed"] or 0) >= fairness.agent_min_surveyed
        lift = row["sentiment_lift"]
        return {
            "name": name,
            "conversations": _count(conversations),
            "handle_time": _duration(row["handle_time_mean_seconds"]),
            "fcr": _pct(row["fcr_rate"]),
            "repeat": _pct(row["repeat_rate"]),
            "escalations": f"{100 * row['escalation_requests'] / conversations:.1f}" if conversations else "–",
            "transfers": _count(row["transfers"]),
            "csat": ("–" if row["csat_mean"] is None else f"{row['csat_mean']:.2f}") if surveyed else "too few",
            "surveyed": _count(row["surveyed"]),
            "sentiment": (f"{lift:+.2f}" if lift is not None else "–") if reliable else "too few",
            "sentiment_n": _count(row["sentiment_lift_conversations"]),
        }

    return {
        "agents": [view(row, f"Agent {row['agent_key'][:10]}") for row in top],
        "team": view(team, f"All {len(agents)} agents"),
        "total": len(agents),
        "shown": len(shown),
        "below_minimum": len(agents) - len(shown),
        "rest": len(shown) - len(top),
        "min_conversations": report.agent_min_conversations,
        "min_sentiment": fairness.agent_min_sentiment_conversations,
        "min_surveyed": fairness.agent_min_surveyed,
    }


def _alerts_block(ctx: Context) -> dict[str, Any] | None:
    rows = ctx.query("alerts")
    precision = {
        row["rule"]: row
        for row in (ctx.query("alert_precision") if ctx.has_rows("metrics.alert_rule_precision") else [])
    }
    rules: dict[str, dict[str, Any]] = {}
    for row in rows:
        rule = rules.get(row["rule"])
        if rule is None:
            happened, action = ALERT_WORDING.get(
                row["rule"], ("needs attention (" + row["rule"].replace("_", " ") + ")", "Review the cases below.")
            )
            rule = rules[row["rule"]] = {
                "rule": row["rule"],
                "happened": happened,
                "action": action,
                "alerts": int(row["rule_alerts"]),
                "high": int(row["rule_high"]),
                "customers": int(row["rule_customers"]),
                "held_out": int(row["rule_held_out"]),
                "precision": _precision(precision.get(row["rule"])),
                "cases": [],
            }
        rule["cases"].append(
            {
                "when": row["alert_at"].strftime("%a %d %b %H:%M"),
                "severity": row["severity"],
                "held_out": bool(row["held_out"]),
                "customer": (row["customer_key"] or "anonymous visitor")[:10],
                "subject": f"{row['subject_type']} {row['subject_id']}",
                "reason": _cell("reason", row["reason"]),
                "rule_detail": f"rule {row['rule']}: value {row['value']:g}, threshold {row['threshold']:g}",
            }
        )
    if not rules:
        return {"rules": [], "total": 0}
    for rule in rules.values():
        rule["rest"] = rule["alerts"] - len(rule["cases"])
    return {"rules": list(rules.values()), "total": sum(r["alerts"] for r in rules.values())}


def _precision(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """How often a rule's judged alerts pointed at a customer who needed help, in words; None when none was judged."""
    if row is None or not row["judged_alerts"] or row["precision"] is None:
        return None
    held_out = (
        f"; {row['held_out_precision']:.0%} of the {row['held_out_judged']:,} held out"
        if row["held_out_precision"] is not None
        else ""
    )
    return {
        "value": _pct(row["precision"]),
        "range": f"{_pct(row['precision_low'])} – {_pct(row['precision_high'])}",
        "judged": _count(row["judged_alerts"]),
        "detail": f"metrics.alert_rule_precision, {row['window_start']} to {row['partition_date']}{held_out}",
    }


def _contact_lists(ctx: Context) -> dict[str, Any]:
    if "contact_lists" in ctx.cache:
        return ctx.cache["contact_lists"]
    lists: dict[str, dict[str, Any]] = {}
    sources = {"contact_lists": "metrics.contact_outcomes", **EXTRA_CONTACT_LISTS}
    for source in (name for name, table in sources.items() if ctx.has_rows(table)):
        for row in ctx.query(source):
            entry = lists.setdefault(row["list"], {"listed": int(row["listed"]), "rows": []})
            csat = (
                str(row["csat"])
                if row["csat"] is not None
                else ("–" if row["predicted_csat"] is None else f"{row['predicted_csat']:.1f} predicted")
            )
            entry["rows"].append(
                [
                    row["conversation_id"],
                    row["started_at"].strftime("%Y-%m-%d %H:%M"),
                    row["channel"],
                    row["intent"],
                    _money(row["cost_to_resolve"] if row["list"] == "resolved" else row["cost"]),
                    csat,
                    row["what_happened"] or "–",
                ]
            )
    result = {"lists": lists, "sizes": {name: entry["listed"] for name, entry in lists.items()}}
    ctx.cache["contact_lists"] = result
    return result


def _journey_lists(ctx: Context) -> dict[str, Any]:
    lists: dict[str, dict[str, Any]] = {}
    if ctx.has_rows("signals.journeys"):
        for row in ctx.query("journey_lists"):
            entry = lists.setdefault(row["list"], {"listed": int(row["listed"]), "rows": []})
            entry["rows"].append(
                [
                    row["journey_id"],
                    row["started_at"].strftime("%Y-%m-%d %H:%M"),
                    row["intent"],
                    _count(row["contacts"]),
                    row["channels"],
                    _count(row["friction_sessions"]),
                    row["status"],
                    _duration(row["time_to_resolve_seconds"]),
                ]
            )
    return lists


def _lists_block(ctx: Context) -> dict[str, Any] | None:
    contacts = _contact_lists(ctx)["lists"]
    journeys = _journey_lists(ctx)
    if not contacts and not journeys:
        return None

    def entries(lists: dict[str, dict[str, Any]], titles: dict[str, tuple[str, str]], kind: str) -> list[dict]:
        return [
            {
                "id": f"list-{kind}-{name.replace('_', '-')}",
                "title": titles[name][0],
                "order": titles[name][1],
                "listed": lists[name]["listed"],
                "rows": lists[name]["rows"],
            }
            for name in titles
            if name in lists
        ]

    return {
        "contacts": entries(contacts, CONTACT_LISTS, "contacts"),
        "journeys": entries(journeys, JOURNEY_LISTS, "journeys"),
        "contact_headers": ["Conversation", "Started (UTC)", "Channel", "Intent", "Cost", "CSAT", "What happened"],
        "journey_headers": [
            "Journey",
            "Started (UTC)",
            "Intent",
            "Contacts",
            "Channels",
            "Friction sessions",
            "Status",
            "Time to resolve",
        ],
    }


def _friction_block(ctx: Context) -> dict[str, Any] | None:
    summary = ctx.query("friction_summary")[0]
    if not summary["sessions"]:
        return None
    view = _friction_view(
        {"summary": summary, "rage_pages": ctx.query("rage_pages"), "entry_pages": ctx.query("friction_entry_pages")}
    )
    journeys = ctx.query("journeys_summary")[0] if ctx.has_rows("signals.journeys") else None
    view["journeys"] = _journeys_view(journeys) if journeys and journeys["journeys"] else None
    return view


def _priorities_block(ctx: Context) -> dict[str, Any] | None:
    return _generic_section(
        ctx.con,
        ctx.tables,
        "metrics.journey_priorities",
        _priority_order,
        TOP_PRIORITIES,
        PRIORITY_COLUMNS,
        where="partition_date = (SELECT max(partition_date) FROM metrics.journey_priorities)",
    )


# Failure demand causes (metrics.failure_demand columns) in words.
FAILURE_CAUSES = {
    "chasing_open_journey": "Chasing an issue still open",
    "pre_contact_error": "An error or crash just before",
    "pre_contact_friction": "Struggled online just before",
    "failure_intent": "A reason that exists only because something failed",
}
DEFECT_TYPES = {"error": "Error", "page": "Page", "intent": "Failure reason", "app_version": "App version"}
DEFECT_TRENDS = {
    "new": "new",
    "rising": "rising",
    "falling": "falling",
    "steady": "steady",
    "too_few": "too few to tell",
    "no_baseline": "no history yet",
}


def _failure_demand_block(ctx: Context) -> dict[str, Any] | None:
    rows = ctx.query("failure_demand")
    overall = next((row for row in rows if row["dimension"] == "all"), None)
    if overall is None or not overall["contacts"]:
        return None
    before = next((row for row in ctx.query("failure_demand", previous=True) if row["dimension"] == "all"), None)
    n, k = int(overall["contacts"]), int(overall["failure_demand"])
    old = (int(before["failure_demand"]), int(before["contacts"])) if before else None
    change = _rate_change(k, n, old, ctx.parameters, higher_is_better=False)

    def segment(row: dict[str, Any]) -> dict[str, Any]:
        causes = {c: int(row[c]) for c in FAILURE_CAUSES}
        main = max(causes, key=lambda c: (causes[c], c)) if any(causes.values()) else None
        return {
            "segment": row["segment"],
            "contacts": _count(row["contacts"]),
            "failure_demand": _count(row["failure_demand"]),
            "share": _rate(int(row["failure_demand"]), int(row["contacts"])),
            "main_cause": FAILURE_CAUSES[main] if main else "–",
        }

    top = ctx.parameters.report.top_rows
    intents = [row for row in rows if row["dimension"] == "intent" and row["failure_demand"]]
    return {
        "listed": _contact_lists(ctx)["sizes"].get("failure_demand", 0),
        "share": _rate(k, n),
        "contacts": _count(n),
        "change": change,
        "causes": [
            {"label": label, "count": _count(overall[c]), "share": _pct(overall[c] / k if k else None)}
            for c, label in FAILURE_CAUSES.items()
        ],
        "channels": [segment(row) for row in rows if row["dimension"] == "channel"],
        "intents": [segment(row) for row in intents[:top]],
        "more_intents": max(0, len(intents) - top),
    }


def _rate_change(
    k: int, n: int, before: tuple[int, int] | None, parameters: Parameters, higher_is_better: bool
) -> dict[str, Any]:
    """A rate k/n against the previous period's (k0, n0): its change in points, whether it is better and whether it is
    a movement (at least report.min_change_points and |z| >= 1.96 by a two-proportion z-test)."""
    if before is None or not before[1] or not n:
        return {"delta": None, "text": "no earlier period", "material": False, "z": None, "better": None}
    k0, n0 = before
    delta, z = k / n - k0 / n0, two_proportion_z(k0, n0, k, n)
    return {
        "delta": delta,
        "text": f"{100 * delta:+.1f} pts".replace("-", "−"),
        "material": abs(100 * delta) >= parameters.report.min_change_points and z is not None and abs(z) >= Z_95,
        "better": None if delta == 0 else (delta > 0) == higher_is_better,
        "z": z,
        "previous": _pct(k0 / n0),
    }


def _defects_block(ctx: Context) -> dict[str, Any] | None:
    rows = ctx.query("defects")
    if not rows:
        return None
    before = {(r["defect_type"], r["defect"]): r for r in ctx.query("defects", previous=True)}

    def view(row: dict[str, Any]) -> dict[str, Any]:
        old = before.get((row["defect_type"], row["defect"]))
        previous = int(old["contacts_preceded"]) if old else 0
        version = row["top_app_version"]
        return {
            "type": DEFECT_TYPES.get(row["defect_type"], row["defect_type"]),
            "defect": row["defect"],
            "contacts": _count(row["contacts_preceded"]),
            "previous": _count(previous),
            "per_1000": "–"
            if row["contacts_per_1000_sessions"] is None
            else f"{row['contacts_per_1000_sessions']:.1f}",
            "sessions": _count(row["sessions_touched"]),
            "trend": DEFECT_TRENDS.get(row["trend"], row["trend"]),
            "worse": row["trend"] in ("new", "rising"),
            "version": f"{version} ({row['top_app_version_share']:.0%})" if version else "–",
        }

    top = ctx.parameters.report.top_rows
    defects = [row for row in rows if row["defect_type"] != "app_version"]
    versions = sorted(
        (row for row in rows if row["defect_type"] == "app_version"),
        key=lambda r: -(r["contacts_per_1000_sessions"] or 0),
    )
    return {
        "defects": [view(row) for row in defects[:top]],
        "more": max(0, len(defects) - top),
        "total": len(defects),
        "versions": [view(row) for row in versions[:top]],
    }


MODELS = {
    "csat": "Predicted CSAT",
    "repeat_risk": "Repeat-contact risk",
    "intent_triage": "Intent triage (the reason for contact)",
}
ERROR_MEASURES = {
    "mae": ("Mean error (CSAT points)", "{:.2f}"),
    "brier": ("Brier score (0 = perfect)", "{:.3f}"),
    "error_rate": ("Share of wrong intents", "{:.1%}"),
}


def _csat_block(ctx: Context) -> dict[str, Any] | None:
    rows = ctx.query("csat_population")
    days = [row for row in rows if row["period"] == "day"]
    window = next((row for row in reversed(rows) if row["period"] == "window"), None)
    if window is None and not days:
        return None
    headline = None
    if window is not None:
        bias = window["ipw_minus_naive"]
        headline = {
            "estimated": bool(window["estimated"]),
            "ipw": "–" if window["ipw_mean"] is None else f"{window['ipw_mean']:.2f}",
            "low": "–" if window["ipw_low"] is None else f"{window['ipw_low']:.2f}",
            "high": "–" if window["ipw_high"] is None else f"{window['ipw_high']:.2f}",
            "naive": "–" if window["naive_mean"] is None else f"{window['naive_mean']:.2f}",
            "predicted": "–" if window["predicted_mean"] is None else f"{window['predicted_mean']:.2f}",
            "surveyed": _count(window["surveyed"]),
            "contacts": _count(window["contacts"]),
            "response_rate": _pct(window["response_rate"]),
            "from": window["window_start"].strftime("%d %b"),
            "to": window["partition_date"].strftime("%d %b %Y"),
            "bias": None if bias is None else f"{abs(bias):.2f}",
            "happier": bias is not None and bias < 0,
            "detail": (
                f"metrics.csat_population window row: effective sample size {window['effective_sample_size'] or 0:,.0f}"
                + (
                    f", response propensity AUC {window['propensity_auc']:.2f}"
                    if window["propensity_auc"] is not None
                    else ""
                )
            ),
        }
    calibration = None
    if ctx.has_rows("metrics.csat_calibration"):
        deciles = ctx.query("csat_calibration")
        if deciles:
            calibration = {
                "day": deciles[0]["partition_date"].strftime("%d %b %Y"),
                "from": deciles[0]["window_start"].strftime("%d %b"),
                "version": str(deciles[0]["model_version"])[:12],
                "rows": [
                    [
                        str(row["decile"]),
                        f"{row['predicted_min']:.2f} – {row['predicted_max']:.2f}",
                        _count(row["surveyed"]),
                        f"{row['mean_predicted']:.2f}",
                        f"{row['mean_observed']:.2f} ({row['observed_low']:.2f} – {row['observed_high']:.2f})",
                        f"{row['gap']:+.2f}".replace("-", "−"),
                    ]
                    for row in deciles
                ],
            }
    chart = _population_chart(days) if any(row["ipw_mean"] is not None for row in days) else None
    return {"headline": headline, "chart": chart, "calibration": calibration}


def _population_chart(days: list[dict[str, Any]]) -> dict[str, Any]:
    measures = (
        ("Population CSAT (weighted)", "ipw_mean"),
        ("Surveyed mean", "naive_mean"),
        ("Predicted, every contact", "predicted_mean"),
    )
    points = [
        {
            "day": row["partition_date"].isoformat(),
            "measure": measure,
            "csat": float(row[column]),
            "low": row["ipw_low"] if column == "ipw_mean" else None,
            "high": row["ipw_high"] if column == "ipw_mean" else None,
        }
        for row in days
        for measure, column in measures
        if row[column] is not None
    ]
    order = [measure for measure, _ in measures]
    colours = alt.Scale(domain=order, range=[PALETTE[0], PALETTE[3], PALETTE[4]])
    base = alt.Chart(pd.DataFrame(points)).encode(x=_day_axis())
    chart = alt.layer(
        base.transform_filter(alt.datum.low != None)  # noqa: E711 - a Vega-Lite expression, not Python
        .mark_area(opacity=0.18)
        .encode(y=alt.Y("low:Q"), y2="high:Q", fill=alt.Fill("measure:N", scale=colours, legend=None)),
        base.mark_line(point=True, strokeWidth=2).encode(
            y=alt.Y("csat:Q", title="CSAT (1–5)", scale=alt.Scale(zero=False)),
            color=alt.Color("measure:N", title=None, scale=colours),
        ),
    )
    return {
        "id": "chart-population",
        "title": "CSAT of every customer, per day",
        "caption": "Weighted: the surveyed answers re-weighted for who tends to answer (band: 95% interval). "
        "Surveyed: the plain mean of the answers. Predicted: the model's score for every contact.",
        "svg": _svg(_configure(chart, "Daily population CSAT with its interval, surveyed mean and predicted mean")),
        "headers": ["Day", "Contacts", "Surveyed", "Weighted", "95% interval", "Surveyed mean", "Predicted"],
        "text": [True, False, False, False, False, False, False],
        "rows": [
            [
                row["partition_date"].isoformat(),
                _count(row["contacts"]),
                _count(row["surveyed"]),
                "–" if row["ipw_mean"] is None else f"{row['ipw_mean']:.2f}",
                "–" if row["ipw_low"] is None else f"{row['ipw_low']:.2f}–{row['ipw_high']:.2f}",
                "–" if row["naive_mean"] is None else f"{row['naive_mean']:.2f}",
                "–" if row["predicted_mean"] is None else f"{row['predicted_mean']:.2f}",
            ]
            for row in days
        ],
    }


def _fairness_block(ctx: Context) -> dict[str, Any] | None:
    rows = ctx.query("model_fairness")
    if not rows:
        return None
    models: dict[str, dict[str, Any]] = {}
    for row in rows:
        measure, shape = ERROR_MEASURES.get(row["error_measure"], (row["error_measure"], "{:.3f}"))

        def show(value: float | None, shape: str = shape) -> str:
            return "–" if value is None else shape.format(value)

        model = models.setdefault(
            row["model"],
            {
                "name": MODELS.get(row["model"], row["model"]),
                "measure": measure,
                "overall": show(row["overall_error"]),
                "labelled": 0,
                "version": str(row["model_version"])[:12],
                "day": row["partition_date"].strftime("%d %b %Y"),
                "from": row["window_start"].strftime("%d %b"),
                "flagged": [],
                "segments": [],
                "too_small": 0,
            },
        )
        if row["segment_type"] == "all":
            model["labelled"] = _count(row["labelled"])
            continue
        if not row["judged"]:
            model["too_small"] += 1
            continue
        segment = {
            "segment": f"{row['segment_type']} {row['segment']}",
            "labelled": _count(row["labelled"]),
            "error": show(row["error"]),
            "ratio": "–" if row["error_ratio"] is None else f"{row['error_ratio']:.2f}×",
            "gap": "–" if row["calibration_gap"] is None else f"{row['calibration_gap']:+.2f}".replace("-", "−"),
            "flagged": bool(row["disparity_flag"]),
        }
        model["segments"].append(segment)
        if segment["flagged"]:
            model["flagged"].append(segment)
    return {
        "models": list(models.values()),
        "flagged": sum(len(m["flagged"]) for m in models.values()),
        "max_ratio": f"{ctx.parameters.fairness.max_error_ratio:g}",
        "min_sample": ctx.parameters.fairness.min_sample,
    }


def _days(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f} days"


def _time_to_value_block(ctx: Context) -> dict[str, Any] | None:
    rows = ctx.query("time_to_value")
    if not rows:
        return None
    ttv = ctx.parameters.get("time_to_value")
    within = ttv.reached_within_days if ttv is not None else None

    def view(row: dict[str, Any]) -> dict[str, Any]:
        return {
            "segment": row["segment"],
            "customers": _count(row["customers"]),
            "reached": _count(row["reached_value"]),
            "open": _count(row["open_customers"]),
            "median": _days(row["median_days_to_value"]),
            "p90": _days(row["p90_days_to_value"]),
            "within": _rate(int(row["reached_within_n_days"]), int(row["observed_n_days"])),
            "observed": _count(row["observed_n_days"]),
        }

    top = ctx.parameters.report.top_rows
    journeys = sorted((r for r in rows if r["dimension"] == "journey"), key=lambda r: -r["customers"])
    return {
        "day": rows[0]["partition_date"].strftime("%d %b %Y"),
        "within_days": within,
        "cohorts": [view(r) for r in rows if r["dimension"] == "cohort"],
        "channels": [view(r) for r in rows if r["dimension"] == "channel"],
        "journeys": [view(r) for r in journeys[:top]],
        "more_journeys": max(0, len(journeys) - top),
    }


def _topics_block(ctx: Context) -> dict[str, Any] | None:
    rows = ctx.query("emerging_topics")
    if not rows:
        return None
    return {
        "day": rows[0]["partition_date"].strftime("%d %b %Y"),
        "total": int(rows[0]["topics"]),
        "new": sum(1 for r in rows if r["is_new"]),
        "candidates": _count(rows[0]["candidates"]),
        "topics": [
            {
                "label": row["label"],
                "size": _count(row["size"]),
                "previous": _count(row["size_previous_week"]),
                "growth": "new" if row["growth"] is None else f"{row['growth']:+.0%}".replace("-", "−"),
                "rising": row["growth"] is None or row["growth"] > 0,
                "first_seen": row["first_seen"].strftime("%d %b"),
                "is_new": bool(row["is_new"]),
                "id": row["topic_id"],
                "example": _cell("utterance", row["utterance"]) if row["utterance"] else None,
            }
            for row in rows
        ],
    }


def _qa_block(ctx: Context) -> dict[str, Any] | None:
    rows = ctx.query("qa_scores")
    minimum = ctx.parameters.qa.min_conversations  # the sample metrics.qa_scores judges an agent-day by
    top = ctx.parameters.report.top_rows
    cards: dict[str, dict[str, Any]] = {}

    def view(row: dict[str, Any], name: str) -> dict[str, Any]:
        applicable = int(row["questions_applicable"])
        return {
            "name": name,
            "scored": _count(row["scored_conversations"]),
            "score": _pct(row["score_mean"]),
            "lowest": _pct(row["score_min"]),
            "met": _pct(int(row["questions_met"]) / applicable if applicable else None),
        }

    for row in rows:
        if row["agent_key"] is None:
            cards[row["scorecard"]] = {
                "scorecard": _label(row["scorecard"]),
                "team": view(row, "All agents"),
                "versions": row["rules_versions"],
                "agents": [],
                "agents_total": 0,
                "below_minimum": 0,
            }
            continue
        card = cards[row["scorecard"]]
        card["agents_total"] += 1
        if row["scored_conversations"] < minimum:
            card["below_minimum"] += 1
        elif len(card["agents"]) < top:
            card["agents"].append(view(row, f"Agent {row['agent_key'][:10]}"))
    if not cards:
        return None
    for card in cards.values():
        card["rest"] = card["agents_total"] - card["below_minimum"] - len(card["agents"])
    return {"scorecards": list(cards.values()), "min_conversations": minimum}


def _difference(value: float | None, low: float | None, high: float | None, shape: str) -> dict[str, Any]:
    """A difference acted - held out with its 95% interval, and whether the interval excludes 0."""
    if value is None:
        return {"text": "–", "range": "", "decisive": False, "lower": False}
    clear = low is not None and high is not None and (high < 0 or low > 0)
    text = shape.format(value).replace("-", "−")
    span = (
        f"{shape.format(low)} to {shape.format(high)}".replace("-", "−") if low is not None and high is not None else ""
    )
    return {"text": text, "range": span, "decisive": clear, "lower": value < 0}


def _interventions_block(ctx: Context) -> dict[str, Any] | None:
    rows = ctx.query("intervention_effects")
    if not rows:
        return None
    effects = []
    for row in rows:
        happened = ALERT_WORDING.get(row["rule"], (row["rule"].replace("_", " "),))[0]
        points = {
            key: None if row[f"repeat_rate_difference{key}"] is None else 100 * row[f"repeat_rate_difference{key}"]
            for key in ("", "_low", "_high")
        }
        effects.append(
            {
                "rule": row["rule"],
                "who": "Customers of every alert" if row["rule"] == "all" else f"Customers who {happened}",
                "repeat": _difference(points[""], points["_low"], points["_high"], "{:+.1f} pts"),
                "alerted": _count(row["alerted_journeys"]),
                "acted": _count(row["acted_journeys"]),
                "held_out": _count(row["held_out_journeys"]),
                "leaks": int(row["held_out_with_action"]),
                "acted_repeat": _pct(row["acted_repeat_rate"]),
                "held_repeat": _pct(row["held_out_repeat_rate"]),
                "hours": _difference(
                    row["hours_to_resolve_difference"],
                    row["hours_to_resolve_difference_low"],
                    row["hours_to_resolve_difference_high"],
                    "{:+.1f} h",
                ),
                "cost": _difference(
                    row["cost_to_resolve_difference"],
                    row["cost_to_resolve_difference_low"],
                    row["cost_to_resolve_difference_high"],
                    "{:+,.2f}",
                ),
            }
        )
    first = rows[0]
    return {
        "day": first["partition_date"].strftime("%d %b %Y"),
        "from": first["window_start"].strftime("%d %b"),
        "effects": effects,
    }


# Bot outcomes (signals.bot_outcomes) in words: (column, label, what it means, higher is better, list behind it).
BOT_OUTCOMES = (
    ("confirmed_resolution", "Confirmed resolution", "The customer said the bot's answer worked.", True, None),
    ("assumed_resolution", "Assumed resolution",
     "The customer took the bot's answer without saying, did not complain and did not come back.", True, None),
    ("escalated", "Handed to an agent", "The bot handed the customer to an agent, or an agent stepped in.", False,
     "bot_escalated"),
    ("abandoned", "Abandoned", "The customer left after the bot spoke.", False, "bot_abandoned"),
    ("failed", "Failed", "The bot could not answer, or the customer complained or came back.", False, "bot_failed"),
)  # fmt: skip
BOT_FAILURE_REASONS = (
    ("failed_fallback", "The bot could not answer", "It said it did not understand or could not help."),
    ("failed_complaint", "The customer complained", "The customer's last words were negative or asked for a human."),
    ("failed_repeat_contact", "The customer came back", "No complaint, but the same issue came back as a repeat."),
)


def _bots_block(ctx: Context) -> dict[str, Any] | None:
    rows = ctx.query("bot_outcomes")
    overall = next((row for row in rows if row["channel"] is None), None)
    if overall is None:
        return None
    before = next((row for row in ctx.query("bot_outcomes", previous=True) if row["channel"] is None), None)
    lists = _contact_lists(ctx)["sizes"]
    n = int(overall["conversations"])

    def tile(column: str, label: str, help_text: str, higher_is_better: bool, listed: str | None) -> dict[str, Any]:
        old = (int(before[column]), int(before["conversations"])) if before else None
        return {
            "id": f"kpi-bot-{column.replace('_', '-')}",
            "label": label,
            "help": help_text,
            "rate": _rate(int(overall[column]), n),
            "change": _rate_change(int(overall[column]), n, old, ctx.parameters, higher_is_better),
            "list": listed and f"list-contacts-{listed.replace('_', '-')}",
            "listed": lists.get(listed, 0) if listed else 0,
        }

    tiles = [tile(*outcome) for outcome in BOT_OUTCOMES]
    tiles.append(
        tile("with_loops", "The bot repeated itself", "The bot gave the same text again in the conversation: a loop.",
             False, "bot_loops")
    )  # fmt: skip
    failed = int(overall["failed"])
    return {
        "conversations": _count(n),
        "tiles": tiles,
        "reasons": [
            {
                "label": label,
                "help": help_text,
                "count": _count(overall[column]),
                "share": _pct(overall[column] / failed if failed else None),
            }
            for column, label, help_text in BOT_FAILURE_REASONS
        ],
        "loops": _count(overall["bot_loops"]),
        "with_fallbacks": _rate(int(overall["with_fallbacks"]), n),
        "outcomes": [label for _, label, _, _, _ in BOT_OUTCOMES],
        "channels": [
            {
                "channel": row["channel"] or "All channels",
                "conversations": _count(row["conversations"]),
                "rates": [_rate(int(row[column]), int(row["conversations"])) for column, *_ in BOT_OUTCOMES],
                "loops": _rate(int(row["with_loops"]), int(row["conversations"])),
            }
            for row in [*(r for r in rows if r["channel"] is not None), overall]
        ],
    }


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.0f} s" if value < 120 else _duration(value)


def _compliance_block(ctx: Context) -> dict[str, Any] | None:
    rows = ctx.query("compliance")
    overall = next((row for row in rows if row["dimension"] == "all"), None)
    if overall is None or not overall["checks"]:
        return None
    previous = {(r["dimension"], r["segment"]): r for r in ctx.query("compliance", previous=True)}
    playbook = ctx.parameters.playbook
    described = {d.name: d.description for d in playbook.disclosures}
    lists = _contact_lists(ctx)["sizes"]

    def change(row: dict[str, Any], column: str) -> dict[str, Any]:
        old = previous.get((row["dimension"], row["segment"]))
        before = (int(old[column]), int(old["checks"])) if old else None
        return _rate_change(int(row[column]), int(row["checks"]), before, ctx.parameters, higher_is_better=False)

    def view(row: dict[str, Any]) -> dict[str, Any]:
        checks, said = int(row["checks"]), int(row["said"]) + int(row["late"])
        return {
            "name": _label(row["segment"]) if row["dimension"] == "disclosure" else row["segment"].replace("_", " "),
            "description": described.get(row["segment"]),
            "deadline": "any time" if row["within_seconds"] is None else f"within {_seconds(row['within_seconds'])}",
            "checks": _count(checks),
            "said": _rate(int(row["said"]), checks),
            "late": _rate(int(row["late"]), checks),
            "missing": _rate(int(row["missing"]), checks),
            "change": change(row, "missing"),
            "by_bot": _pct(row["said_by_bot"] / said if said else None),
            "by_agent": _pct(row["said_by_agent"] / said if said else None),
            "when": _seconds(row["seconds_to_say_median"]),
        }

    checks = int(overall["checks"])
    return {
        "playbook": playbook.name,
        "checks": _count(checks),
        "conversations": _count(overall["conversations"]),
        "missing": _rate(int(overall["missing"]), checks),
        "missing_n": int(overall["missing"]),
        "missing_change": change(overall, "missing"),
        "late": _rate(int(overall["late"]), checks),
        "late_change": change(overall, "late"),
        "conversations_missing": _rate(int(overall["conversations_missing"]), int(overall["conversations"])),
        "missing_listed": lists.get("disclosure_missing", 0),
        "late_listed": lists.get("disclosure_late", 0),
        "disclosures": [view(row) for row in rows if row["dimension"] == "disclosure"],
        "journeys": [view(row) for row in rows if row["dimension"] == "journey"],
    }


def _words(code: str) -> str:
    return code.replace("_", " ")


def _next_issues_block(ctx: Context) -> dict[str, Any] | None:
    """Next issues over the latest period whose contacts have all had the whole window to show one (a contact of the
    last `window_days` days may still gain one), against the period before; the report's own period when no such
    period is loaded yet."""
    assert ctx.period is not None
    window = _query(ctx.con, "next_issues_window")[0]["window_days"]
    stats = ctx.tables["metrics.next_issues"]
    last_complete = stats["last_day"] - timedelta(days=int(window or 0))
    complete = last_complete >= stats["first_day"]
    period = (
        report_period(last_complete, stats["first_day"], ctx.parameters.report.period_days) if complete else ctx.period
    )
    bound = {"start_date": period.start, "end_date": period.end}
    rows = _query(ctx.con, "next_issues", bound)
    overall = next((row for row in rows if row["intent"] is None), None)
    if overall is None:
        return None
    previous = (
        {r["intent"]: r for r in _query(ctx.con, "next_issues", {"start_date": period.previous_start,
                                                                  "end_date": period.previous_end})}
        if complete
        else {}
    )  # fmt: skip
    transitions = _query(ctx.con, "intent_transitions", bound) if ctx.has_rows("metrics.intent_transitions") else []
    top_next = {}
    for row in transitions:  # largest first: the first seen per from-intent is its most common next issue
        top_next.setdefault(row["from_intent"], row)

    def view(row: dict[str, Any]) -> dict[str, Any]:
        old = previous.get(row["intent"])
        before = (int(old["next_issue_contacts"]), int(old["contacts"])) if old else None
        k, n = int(row["next_issue_contacts"]), int(row["contacts"])
        following = top_next.get(row["intent"])
        return {
            "intent": row["intent"] or "All reasons",
            "contacts": _count(n),
            "next": _count(k),
            "rate": _rate(k, n),
            "change": _rate_change(k, n, before, ctx.parameters, higher_is_better=False),
            "top": (
                f"{following['to_intent']} ({_pct(following['share_of_next_issues'])} of its next issues)"
                if following
                else "–"
            ),
        }

    top = ctx.parameters.report.top_rows
    intents = [row for row in rows if row["intent"] is not None]
    first = transitions[0] if transitions else None
    return {
        "complete": complete,
        "compared": bool(previous),
        "period": period,
        "window_days": int(window or 0),
        "overall": view(overall),
        "intents": [view(row) for row in intents[:top]],
        "more_intents": max(0, len(intents) - top),
        "transitions": {
            "day": first["partition_date"].strftime("%d %b %Y") if first else None,
            # the window reaches back before the first day loaded on a short history: name the days it covers
            "from": max(first["window_start"], stats["first_day"]).strftime("%d %b") if first else None,
            "total": len(transitions),
            # in words, so that a long reason wraps between them on the tile
            "top": {
                "flow": f"{_words(first['from_intent'])} → {_words(first['to_intent'])}",
                "detail": f"{_count(first['transitions'])} contacts: {_pct(first['share_of_contacts'])} of the "
                f"{_count(first['from_contacts'])} {_words(first['from_intent'])} contacts",
            }
            if first
            else None,
            "rows": [
                [
                    row["from_intent"],
                    row["to_intent"],
                    _count(row["transitions"]),
                    _count(row["from_contacts"]),
                    _pct(row["share_of_contacts"]),
                    _pct(row["share_of_next_issues"]),
                ]
                for row in transitions[:top]
            ],
        },
    }


BLOCKS = (
    Block("summary", "What changed", "metrics.daily_outcomes", _summary_block, "No contacts have been measured yet.",
          summarises=True),
    Block("headline", "Headline metrics", "metrics.daily_outcomes", _headline_block,
          "No contacts have been measured yet: run the pipeline on some landing files."),
    Block("cwq", "Containment quality", "metrics.daily_outcomes", _cwq_block, "No contacts have been measured yet."),
    Block("bots", "Bot outcomes", "signals.bot_outcomes", _bots_block,
          "No conversation with a bot turn has been classed yet."),
    Block("trends", "Trends", "metrics.daily_outcomes", _trends_block, "No daily outcomes yet."),
    Block("anomalies", "Anomalies", "metrics.outcome_anomalies", _anomalies_block,
          "No day has been judged against its recent range yet."),
    Block("failure_demand", "Failure demand", "metrics.failure_demand", _failure_demand_block,
          "Failure demand has not been computed yet."),
    Block("defects", "Defects", "metrics.defects", _defects_block, "No defect has preceded a contact yet."),
    Block("next_issues", "Next issues", "metrics.next_issues", _next_issues_block,
          "Next issues have not been computed yet."),
    Block("time_to_value", "Time to value", "metrics.time_to_value", _time_to_value_block,
          "Time to value has not been computed yet."),
    Block("topics", "Emerging topics", "signals.emerging_topics", _topics_block,
          "No emerging topic has been found yet."),
    Block("friction", "Friction hot spots", "signals.session_friction", _friction_block,
          "No web or app sessions have been measured yet."),
    Block("priorities", "Journey priorities", "metrics.journey_priorities", _priorities_block,
          "Journey priorities have not been computed yet."),
    Block("csat", "CSAT", "metrics.csat_population", _csat_block, "Population CSAT has not been computed yet."),
    Block("fairness", "Model fairness", "metrics.model_fairness", _fairness_block,
          "No model has been judged by segment yet."),
    Block("agents", "Agents", "metrics.agent_daily", _agents_block, "No agent has handled a conversation yet."),
    Block("qa", "Quality scorecards", "metrics.qa_scores", _qa_block, "No conversation has been scored yet."),
    Block("compliance", "Required disclosures", "signals.compliance", _compliance_block,
          "No required disclosure has been checked: the playbook has none (playbook.disclosures), or no conversation "
          "needed one yet."),
    Block("alerts", "Alerts to act on", "signals.friction_alerts", _alerts_block, "No alerts have been computed yet."),
    Block("interventions", "Did acting help?", "metrics.intervention_effects", _interventions_block,
          "No alert has been acted on and compared with its hold-out yet."),
    Block("lists", "Behind the figures", "metrics.contact_outcomes", _lists_block, "No contacts to list yet."),
)  # fmt: skip


# --- data -----------------------------------------------------------------------------------------------------


def _query(con: duckdb.DuckDBPyConnection, name: str, parameters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql_text(f"report/{name}"), parameters or {})
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


def _shade(chart: alt.TopLevelMixin, period: Period | None) -> alt.TopLevelMixin:
    """The chart over a grey band marking the report's period (its days, start of the first to end of the last)."""
    if period is None:
        return chart
    band = pd.DataFrame([{"start": period.start.isoformat(), "end": (period.end + timedelta(days=1)).isoformat()}])
    rect = alt.Chart(band).mark_rect(color="#8b949e", opacity=0.12).encode(x="start:T", x2="end:T")
    if isinstance(chart, alt.LayerChart):  # altair lifts the layers' shared data onto the layer chart: keep it there
        return alt.layer(rect, *chart.layer, data=chart.data)
    return alt.layer(rect, chart)


def _day_axis(kind: str = "T") -> alt.X:
    return alt.X(
        f"day:{kind}",
        timeUnit="utcyearmonthdate",
        title=None,
        axis=alt.Axis(format="%b %d", labelAngle=0, labelOverlap=True),
    )


def _trend_charts(
    daily: list[dict[str, Any]], day_channel: list[dict[str, Any]], period: Period | None = None
) -> list[dict[str, Any]]:
    """The trend figures: SVG, title, caption and the same data as a table for screen readers; the report's period is
    shaded on the daily lines."""
    charts = [_rates_chart(daily, period)] if daily else []
    if any(row["cost_to_resolve_median"] is not None for row in daily):
        charts.append(_cost_chart(daily, period))
    if any(row["csat_mean"] is not None or row["predicted_csat_mean"] is not None for row in daily):
        charts.append(_csat_chart(daily, period))
    if day_channel:
        charts.append(_volume_chart(day_channel))
    return charts


def _rates_chart(daily: list[dict[str, Any]], period: Period | None = None) -> dict[str, Any]:
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
        "svg": _svg(_configure(_shade(chart, period), "Daily containment and containment-with-quality rates")),
        "headers": ["Day", "Contacts", "Containment", "95% interval", "With quality", "95% interval"],
        "text": [True, False, False, False, False, False],
        "rows": rows,
    }


def _cost_chart(daily: list[dict[str, Any]], period: Period | None = None) -> dict[str, Any]:
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
        "svg": _svg(_configure(_shade(chart, period), "Daily median and 90th percentile cost to resolve")),
        "headers": ["Day", "Chains resolved", "Median", "90th percentile"],
        "text": [True, False, False, False],
        "rows": [
            [row["partition_date"].isoformat(), _count(row["chains_resolved"])]
            + [_money(row[column]) for _, column in statistics]
            for row in daily
        ],
    }


def _csat_chart(daily: list[dict[str, Any]], period: Period | None = None) -> dict[str, Any]:
    measures = (("Surveyed CSAT", "csat_mean"), ("Predicted CSAT", "predicted_csat_mean"))
    points = [
        {"day": row["partition_date"].isoformat(), "measure": measure, "csat": float(row[column])}
        for row in daily
        for measure, column in measures
        if row[column] is not None
    ]
    order = [measure for measure, _ in measures]
    chart = (
        alt.Chart(pd.DataFrame(points))
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x=_day_axis(),
            y=alt.Y("csat:Q", title="CSAT (1–5)", scale=alt.Scale(zero=False)),
            color=alt.Color("measure:N", title=None, scale=alt.Scale(domain=order, range=[PALETTE[3], PALETTE[4]])),
            strokeDash=alt.StrokeDash("measure:N", title=None, scale=alt.Scale(domain=order, range=[[1, 0], [5, 3]])),
        )
    )
    return {
        "id": "chart-csat",
        "title": "CSAT and predicted CSAT, per day",
        "caption": "Surveyed: mean score of the customers who answered. Predicted: the model's score for every "
        "contact, so a day with few surveys still has a reading.",
        "svg": _svg(_configure(_shade(chart, period), "Daily mean surveyed CSAT and mean predicted CSAT")),
        "headers": ["Day", "Surveyed", "Surveyed CSAT", "Contacts scored", "Predicted CSAT"],
        "text": [True, False, False, False, False],
        "rows": [
            [
                row["partition_date"].isoformat(),
                _count(row["surveyed"]),
                "–" if row["csat_mean"] is None else f"{row['csat_mean']:.2f}",
                _count(row["predicted"]),
                "–" if row["predicted_csat_mean"] is None else f"{row['predicted_csat_mean']:.2f}",
            ]
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
