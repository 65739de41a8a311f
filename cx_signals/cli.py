"""The `cx-signals` command: generate sample data, run the pipeline, show results, benchmark."""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.console import Console
from rich.table import Table as RichTable

from cx_signals.config import ConfigError, load_config
from cx_signals.resources import model_directory

app = typer.Typer(
    help="cx-signals: customer-experience signals from transcripts, telemetry and clickstream.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
bench_app = typer.Typer(help="Benchmarks.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
# Wide enough for the summary tables when output is piped or captured (Rich assumes 80 columns then).
console = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, soft_wrap=True)

DEFAULT_DB = Path("cx_data/cx_signals.duckdb")
SUMMARY_TABLES = (
    "raw.conversations",
    "raw.turns",
    "raw.conversation_events",
    "raw.telemetry",
    "raw.events",
    "signals.turn_sentiment",
    "signals.intent_predictions",
    "signals.conversation_signals",
    "signals.session_friction",
    "signals.journeys",
    "signals.friction_alerts",
    "metrics.contact_outcomes",
    "metrics.daily_outcomes",
    "metrics.journey_priorities",
    "metrics.agent_daily",
    "metrics.outcome_anomalies",
    "metrics.repeat_risk",
    "signals.csat_predictions",
    "quarantine.rejects",
)


def fail(message: str) -> typer.Exit:
    """Print `message` as an error and return the exit to raise."""
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=1)


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Landing folder to write.")],
    days: Annotated[int, typer.Option(min=1, help="Days of data.")] = 14,
    customers: Annotated[int, typer.Option(min=1, help="Customers.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 7,
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD, UTC).")] = "2026-10-01",
) -> None:
    """Write a realistic synthetic landing folder (transcripts, telemetry, events) plus its planted truth."""
    from cx_signals.generate import generate_landing

    started = time.perf_counter()
    counts = generate_landing(
        out,
        days=days,
        customers=customers,
        seed=seed,
        start=date.fromisoformat(start),
        repeat_window_days=load_config()["outcomes"]["repeat_window_days"],
    )
    summary = ", ".join(f"{v:,} {k}" for k, v in counts.items())
    console.print(f"wrote {out} in {time.perf_counter() - started:.1f}s: {summary}")
    console.print(f"planted truth (never read by the pipeline): {out / '_truth'}")


def _run(landing: Path, db: Path, config: Path | None) -> None:
    from cx_signals.ingest import landing_days
    from cx_signals.landing import LandingPathError, discover

    try:
        parameters = load_config(config)
        files = discover(landing)
    except (ConfigError, LandingPathError) as exc:
        raise fail(str(exc)) from exc
    if not files:
        raise fail(f"no landing files under {landing}/{{transcripts,telemetry,events}}/")
    days = sorted(landing_days(files, parameters))
    console.print(f"{len(files)} landing files, {len(days)} days ({days[0]} .. {days[-1]}); running Dagster ...")
    from dagster_defs.runner import run_pipeline

    started = time.perf_counter()
    outcome = run_pipeline(landing, db, days[0], days[-1], str(config or ""))
    if not outcome.success:
        raise fail(f"run {outcome.run_id} failed:\n{outcome.error}")
    console.print(f"run {outcome.run_id} succeeded in {time.perf_counter() - started:.0f}s; published {db}")
    print_summary(db)
    if outcome.failed_checks:
        err.print(f"[yellow]warning:[/] failed data checks: {', '.join(outcome.failed_checks)}")


@app.command()
def run(
    landing: Annotated[Path, typer.Option(help="Landing folder with transcripts/, telemetry/, events/.")],
    db: Annotated[Path, typer.Option(help="DuckDB file to publish.")] = DEFAULT_DB,
    config: Annotated[Path | None, typer.Option(help="YAML overriding config/defaults.yml.")] = None,
) -> None:
    """Validate, load and materialise every asset for every day in LANDING, through Dagster, into DB."""
    _run(landing, db, config)


@app.command()
def demo(
    db: Annotated[Path, typer.Option(help="DuckDB file to publish.")] = DEFAULT_DB,
    customers: Annotated[int, typer.Option(min=1)] = 2000,
    days: Annotated[int, typer.Option(min=1)] = 14,
) -> None:
    """Generate a sample (2,000 customers, 14 days), run the pipeline on it and show the headline metrics."""
    landing = db.parent / "landing"
    generate(out=landing, days=days, customers=customers, seed=7, start="2026-10-01")
    _run(landing, db, None)
    console.print(
        f"\nReport for CX leaders: {db.with_name('report.html')} (self-contained HTML)\n"
        "Query it (Python, or the duckdb CLI if you have it: duckdb -readonly FILE):\n"
        f"  {sys.executable} -c \"import duckdb; print(duckdb.connect('{db}', read_only=True)"
        ".sql('FROM metrics.daily_outcomes LIMIT 10'))\"\n"
        "Tables and columns are documented in the database (SELECT * FROM duckdb_columns()) and in docs/."
    )


def print_summary(db: Path) -> None:
    """Print row counts, quarantine reasons and headline metrics per channel from the published file."""
    with duckdb.connect(str(db), read_only=True) as con:
        counts = RichTable("table", "rows", title="tables")
        for table in SUMMARY_TABLES:
            counts.add_row(table, f"{con.execute(f'SELECT count(*) FROM {table}').fetchone()[0]:,}")
        console.print(counts)
        rejects = con.execute(
            "SELECT source, rule, count(*) FROM quarantine.rejects GROUP BY ALL ORDER BY 3 DESC LIMIT 10"
        ).fetchall()
        if rejects:
            quarantine = RichTable("source", "rule", "records", title="quarantined")
            for source, rule, n in rejects:
                quarantine.add_row(source, rule, str(n))
            console.print(quarantine)
        headline = RichTable(
            "channel",
            "contacts",
            "contained",
            "CwQ",
            "FCR",
            "repeat",
            "cost/contact",
            "cost-to-resolve (median)",
            title="headline metrics",
        )
        for row in con.execute(
            """
            SELECT channel, count(*),
                   avg(contained::INT), avg(contained_with_quality::INT), avg(fcr::INT), avg(repeat_contact::INT),
                   avg(cost), median(cost_to_resolve) FILTER (WHERE resolves_chain)
            FROM metrics.contact_outcomes GROUP BY channel ORDER BY 2 DESC
            """
        ).fetchall():
            headline.add_row(
                row[0],
                f"{row[1]:,}",
                *(f"{v:.1%}" for v in row[2:6]),
                *(f"{v:,.2f}" if v is not None else "-" for v in row[6:]),
            )
        console.print(headline)
    print_model_figures(model_directory(db))


def _latest_sidecar(directory: Path, prefix: str) -> dict:
    sidecars = [json.loads(p.read_text()) for p in directory.glob(f"{prefix}-*.json")]
    return max(sidecars, key=lambda s: s.get("created_at", ""), default={}).get("metrics", {})


def print_model_figures(directory: Path) -> None:
    """Print each model's held-out figure against its naive baseline, from the newest artefact of each kind."""
    figures = RichTable("model", "held-out figure", "naive baseline", "coverage", title="models (held-out)")
    intent = _latest_sidecar(directory, "intent-model")
    if intent:
        figures.add_row("intent triage", f"macro-F1 {intent['macro_f1']:.3f}", "-", f"{intent['n_classes']} intents")
    csat = _latest_sidecar(directory, "csat-model")
    if csat:
        figures.add_row(
            "predicted CSAT",
            f"MAE {csat['mae']:.2f}",
            f"MAE {csat['baseline_mae']:.2f} (mean)",
            f"surveyed {csat['coverage_surveyed']:.0%} -> predicted 100%",
        )
    risk = _latest_sidecar(directory, "repeat-risk-model")
    if risk:
        figures.add_row(
            "repeat-contact risk",
            f"ROC AUC {risk['roc_auc']:.2f}, Brier {risk['brier']:.3f}",
            f"AUC 0.50, Brier {risk['baseline_brier']:.3f} (base rate)",
            "open journeys",
        )
    if figures.row_count:
        console.print(figures)


@app.command()
def report(
    db: Annotated[Path, typer.Option(help="Published DuckDB file to report on.")] = DEFAULT_DB,
    out: Annotated[Path, typer.Option(help="HTML file to write.")] = Path("report.html"),
) -> None:
    """Write one self-contained HTML report (no network needed to view it) from the metric tables."""
    from cx_signals.report import build_report

    if not db.exists():
        raise fail(f"database {db} does not exist: run `cx-signals run` or `cx-signals demo` first")
    summary = build_report(db, out)
    filled = ", ".join(name for name, has_data in summary.sections.items() if has_data)
    console.print(
        f"wrote {summary.out} ({summary.size_bytes:,} bytes): {summary.contacts:,} contacts, "
        f"{summary.period_start} .. {summary.period_end}; sections with data: {filled}"
    )


@app.command()
def evaluate(
    landing: Annotated[Path, typer.Option(help="Generated landing folder (with its _truth/ folder).")],
    db: Annotated[Path, typer.Option(help="Database the pipeline published from that folder.")] = DEFAULT_DB,
) -> None:
    """Score the output against the planted truth of a generated landing folder: every detector's precision and
    recall, and the outcomes that must match exactly."""
    from cx_signals.privacy import key_file_for, pseudonym_key
    from cx_signals.truth import detector_scores, outcome_mismatches

    truth = landing / "_truth"
    if not truth.is_dir() or not db.exists():
        raise fail(f"need {truth} (from `cx-signals generate`) and {db} (from `cx-signals run`)")
    key = pseudonym_key(key_file_for(db))
    detectors = RichTable("detector", "planted", "found", "false alarms", "precision", "recall", title="detectors")
    for name, result in detector_scores(db, truth, key).items():
        detectors.add_row(
            name,
            str(result.true_positives + result.false_negatives),
            str(result.true_positives),
            str(result.false_positives),
            f"{result.precision:.3f}",
            f"{result.recall:.3f}",
        )
    console.print(detectors)
    exact = RichTable("outcome", "contacts that differ from the truth", title="exact outcomes")
    for name, mismatched in outcome_mismatches(db, truth).items():
        exact.add_row(name, str(mismatched))
    console.print(exact)


@bench_app.command("sentiment")
def bench_sentiment(
    landing: Annotated[Path | None, typer.Option(help="Landing folder whose turn texts to score.")] = None,
    processes: Annotated[int | None, typer.Option(help="Worker processes (default: CPU count).")] = None,
) -> None:
    """Utterances per second of the batched scorer vs a plain VADER loop, on the same texts, same run."""
    import json
    import tempfile

    from cx_signals.landing import discover, read_file
    from cx_signals.sentiment import benchmark, benchmark_report

    with tempfile.TemporaryDirectory() as scratch:
        if landing is None:
            landing = Path(scratch) / "landing"
            generate(out=landing, days=14, customers=2000, seed=7, start="2026-10-01")
        texts = [
            turn.get("text") or ""
            for file in discover(landing)
            if file.source == "transcripts"
            for record in read_file(file).records
            if isinstance(record.value, dict)
            for turn in (record.value.get("turns") or [])
            if isinstance(turn, dict)
        ]
    result = benchmark(texts, processes=processes)
    console.print(benchmark_report(result))
    console.print(json.dumps(result, indent=2, default=str))
