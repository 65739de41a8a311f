"""The `cx-signals` command: generate sample data, run the pipeline, show results, benchmark."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import duckdb
import typer
from rich import box
from rich.console import Console
from rich.table import Column
from rich.table import Table as RichTable

import cx_signals
from cx_signals.config import ConfigError, Parameters, load_config
from cx_signals.db import sql_text
from cx_signals.landing import SOURCES
from cx_signals.paths import database_files
from dagster_defs.cli_output import QUERY_FORMATS, print_dry_run, print_query, step_progress

if TYPE_CHECKING:  # the truth module loads on `evaluate` only
    from cx_signals.truth import DetectorScore

app = typer.Typer(
    help="cx-signals: customer-experience signals from transcripts, telemetry and clickstream, in one DuckDB file.",
    epilog='Example: cx-signals demo, then cx-signals query "FROM metrics.daily_outcomes LIMIT 5". '
    "Every command takes --help.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # paragraphs of the docstrings are re-wrapped to the terminal (Rich mode keeps their line breaks)
    rich_markup_mode="markdown",
)
bench_app = typer.Typer(help="Benchmarks.", no_args_is_help=True, rich_markup_mode="markdown")
app.add_typer(bench_app, name="bench")
# The terminal's width, or COLUMNS; when output is piped or captured without COLUMNS, wide enough for the summary
# tables (Rich assumes 80 columns then, and would wrap file names).
console = Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 120)
err = Console(stderr=True, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        console.print(f"cx-signals {cx_signals.__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """cx-signals: customer-experience signals from transcripts, telemetry and clickstream, in one DuckDB file."""


DEFAULT_DB = Path("cx_data/cx_signals.duckdb")
MAX_IGNORED_SHOWN = 20
SUMMARY_TABLES = (
    "raw.conversations",
    "raw.turns",
    "raw.conversation_events",
    "raw.telemetry",
    "raw.events",
    "raw.actions",
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
    "signals.compliance",
    "quarantine.rejects",
)


class ExitCode:
    """The documented exit codes of every command."""

    OK = 0
    FAILED = 1
    USAGE = 2
    TOO_MUCH_QUARANTINED = 3


def fail(message: str, code: int = ExitCode.FAILED) -> typer.Exit:
    """Print `message` as an error and return the exit to raise (code 1, or `code`)."""
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=code)


_PLAYBOOK_OPTION = typer.Option(
    help="Industry playbook (banking, telecom, retail, healthcare): config/playbooks/NAME.yml over the defaults, "
    "below --config (docs/playbooks.md)."
)


def usage_error(message: str) -> typer.Exit:
    """Print `message` as a usage error (bad option, config, path) and return exit code 2."""
    return fail(message, ExitCode.USAGE)


@app.command(epilog="Example: cx-signals generate --out /tmp/landing --days 3 --customers 200")
def generate(
    out: Annotated[Path, typer.Option(help="Landing folder to write.")],
    days: Annotated[int, typer.Option(min=1, help="Days of data.")] = 14,
    customers: Annotated[int, typer.Option(min=1, help="Customers.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 7,
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD, UTC).")] = "2026-10-01",
    playbook: Annotated[str | None, _PLAYBOOK_OPTION] = None,
) -> None:
    """Write a realistic synthetic landing folder (transcripts, telemetry, events, actions) plus its planted truth;
    with --playbook, of that industry (its intents, PII kinds and disclosures, some of them missed)."""
    from cx_signals.generate import generate_landing

    started = time.perf_counter()
    try:
        first = date.fromisoformat(start)
    except ValueError:
        raise usage_error(f"--start must be a day as YYYY-MM-DD, not {start!r}") from None
    try:
        config = load_config(playbook=playbook)
    except ConfigError as exc:
        raise usage_error(str(exc)) from None
    with step_progress(err, f"generating {days} days from {first}, {customers:,} customers") as progress:
        task = progress.tasks[0].id
        counts = generate_landing(
            out,
            days=days,
            customers=customers,
            seed=seed,
            start=first,
            repeat_window_days=config.outcomes.repeat_window_days,
            progress=lambda message: progress.update(task, description=message),
            playbook=config.playbook if playbook else None,
        )
        progress.stop()
    summary = ", ".join(f"{v:,} {k}" for k, v in counts.items())
    console.print(f"wrote {out} in {time.perf_counter() - started:.1f}s: {summary}")
    console.print(f"planted truth (never read by the pipeline): {out / '_truth'}")


def _check_writable(db: Path) -> None:
    """Refuse, before any work, a database whose folder (or side folder) this user cannot write."""
    folder = database_files(db).folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for target in (folder, db.parent):
            probe = target / f".write-probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
    except OSError as exc:
        raise usage_error(f"cannot write the database folder {exc.filename or folder}: {exc.strerror}") from None


def _prepare(
    landing: Path, db: Path, config_file: Path | None, playbook: str | None = None
) -> tuple[Parameters, list[date]]:
    """Validate the config, the database folder and the landing folder before any work; return config and days."""
    from cx_signals.ingest import landing_days
    from cx_signals.landing import LandingPathError, scan
    from cx_signals.manifest import manifests

    try:
        config = load_config(config_file, playbook)
    except ConfigError as exc:
        raise usage_error(str(exc)) from None
    _check_writable(db)
    try:
        found = scan(landing)
    except LandingPathError as exc:
        raise usage_error(str(exc)) from None
    for ignored in found.ignored[:MAX_IGNORED_SHOWN]:
        console.print(f"ignored {ignored.relative}: {ignored.reason}", markup=False, highlight=False)
    if len(found.ignored) > MAX_IGNORED_SHOWN:
        console.print(f"... and {len(found.ignored) - MAX_IGNORED_SHOWN} more ignored paths (see audit.runs)")
    if not found.files:
        raise usage_error(f"no landing files under {landing}/{{{','.join(SOURCES)}}}/")
    # files whose days the database's manifests know are not read again
    return config, sorted(landing_days(found.files, config, manifests=manifests(database_files(db))))


def _report_failure(outcome) -> typer.Exit:
    lines = "\n".join(f"  {failure}" for failure in outcome.failures) or "  the run failed"
    return fail(
        f"run {outcome.run_id} failed; the published database was left as it was.\n{lines}\n"
        f"  full trace: {outcome.log_file}"
    )


def _run(landing: Path, db: Path, config_file: Path | None, verbose: bool, playbook: str | None = None) -> None:
    config, days = _prepare(landing, db, config_file, playbook)
    console.print(f"landing files hold {len(days)} days ({days[0]} .. {days[-1]}); running Dagster ...")
    from dagster_defs.runner import run_pipeline

    started = time.perf_counter()
    with step_progress(err, "starting Dagster") as progress:
        task = progress.tasks[0].id

        def on_step(step: str, span: str, n: int, total: int) -> None:
            progress.update(task, description=f"{span}: {step.replace('__', '/')}", completed=n - 1, total=total)

        outcome = run_pipeline(landing, db, days, config, verbose=verbose, on_step=on_step)
    if not outcome.success:
        raise _report_failure(outcome)
    console.print(f"run {', '.join(outcome.run_ids)} succeeded in {time.perf_counter() - started:.0f}s; published {db}")
    print_summary(db, outcome.run_ids)
    print_files_read(db, outcome.run_ids)
    over = print_quarantine(db, outcome.run_ids, config.ingest.max_quarantine_share)
    if outcome.failed_checks:
        raise fail(f"failed data checks: {', '.join(outcome.failed_checks)} (details: {outcome.log_file})")
    if over:
        raise fail(
            f"{', '.join(over)}: more than {config.ingest.max_quarantine_share:.0%} of the records read were "
            "quarantined (ingest.max_quarantine_share); see the reasons above",
            ExitCode.TOO_MUCH_QUARANTINED,
        )


_VERBOSE = Annotated[bool, typer.Option("--verbose", help="Show Dagster's own log on the console.")]
_LANDING = Annotated[Path, typer.Option(help=f"Landing folder with {', '.join(f'{s}/' for s in SOURCES)}.")]
_CONFIG = Annotated[Path | None, typer.Option(help="YAML overriding config/defaults.yml.")]
_PLAYBOOK = Annotated[str | None, _PLAYBOOK_OPTION]


@app.command(epilog="Example: cx-signals run --landing landing --db cx_data/cx_signals.duckdb --config my.yml")
def run(
    landing: _LANDING,
    db: Annotated[Path, typer.Option(help="DuckDB file to publish.")] = DEFAULT_DB,
    config: _CONFIG = None,
    verbose: _VERBOSE = False,
    playbook: _PLAYBOOK = None,
) -> None:
    """Validate, load and materialise every asset for every day in LANDING, through Dagster, into DB.

    Exit codes: 0 ok; 1 the run or a data check failed (the published file is kept as it was); 2 usage error (bad
    option, config value or path, detected before any work); 3 a source's quarantined share of records exceeded
    ingest.max_quarantine_share (the rest was loaded and published).
    """
    _run(landing, db, config, verbose, playbook)


@app.command(epilog="Example: cx-signals train --landing cx_data/landing --db cx_data/cx_signals.duckdb")
def train(
    landing: _LANDING,
    db: Annotated[Path, typer.Option(help="Published DuckDB file whose models to retrain.")] = DEFAULT_DB,
    config: _CONFIG = None,
    verbose: _VERBOSE = False,
) -> None:
    """Retrain the intent, CSAT and repeat-risk models on the days up to the database's latest day; later runs
    score with the new versions (runs never retrain a model that exists, so re-running past days changes nothing)."""
    config_values, _ = _prepare(landing, db, config)
    if not db.exists():
        raise usage_error(f"database {db} does not exist: run `cx-signals run` first")
    with duckdb.connect(str(db), read_only=True) as con:
        latest = con.execute("SELECT max(partition_date) FROM raw.conversations").fetchone()[0]
    if latest is None:
        raise usage_error(f"database {db} holds no conversations to train on")
    from dagster_defs.runner import run_pipeline

    with step_progress(err, f"training on the days up to {latest}"):
        outcome = run_pipeline(landing, db, [latest], config_values, verbose=verbose, train=True)
    if not outcome.success:
        raise _report_failure(outcome)
    console.print(f"retrained on the days up to {latest} (run {outcome.run_id})")
    print_model_figures(database_files(db).models)


@app.command(epilog="Example: cx-signals rescore --db cx_data/cx_signals.duckdb --config my.yml --since 2026-10-01")
def rescore(
    db: Annotated[Path, typer.Option(help="Published DuckDB file whose days to re-score.")] = DEFAULT_DB,
    config: _CONFIG = None,
    since: Annotated[str | None, typer.Option(help="First day to re-score (YYYY-MM-DD); default: the first.")] = None,
    until: Annotated[str | None, typer.Option(help="Last day to re-score (YYYY-MM-DD); default: the last.")] = None,
    verbose: _VERBOSE = False,
) -> None:
    """Re-score the conversation categories and QA scorecards of the days already loaded with the current rules
    (categories.rules_file), then publish: every row carries the new rules version and hash. Nothing else is
    recomputed and no landing file is read.

    Exit codes: 0 ok; 1 the run or a data check failed (the published file is kept as it was); 2 usage error.
    """
    from cx_signals.categories import load_rules
    from dagster_defs.assets.categories import RESCORE_JOB
    from dagster_defs.database_resources import DEFAULT_LANDING
    from dagster_defs.runner import run_pipeline

    try:
        config_values = load_config(config)
        first, last = (date.fromisoformat(d) if d else None for d in (since, until))
    except (ConfigError, ValueError) as exc:
        raise usage_error(str(exc)) from None
    if not db.exists():
        raise usage_error(f"database {db} does not exist: run `cx-signals run` first")
    _check_writable(db)
    with duckdb.connect(str(db), read_only=True) as con:
        days = [
            row[0]
            for row in con.execute(
                "SELECT DISTINCT partition_date FROM raw.conversations WHERE partition_date BETWEEN "
                "coalesce(?::DATE, DATE '0001-01-01') AND coalesce(?::DATE, DATE '9999-12-31') ORDER BY 1",
                [first, last],
            ).fetchall()
        ]
    if not days:
        raise usage_error(f"database {db} holds no conversations in the days asked for")
    rules = load_rules(config_values.categories.rules_file)
    with step_progress(err, f"re-scoring {len(days)} days with rules {rules.version}"):
        outcome = run_pipeline(Path(DEFAULT_LANDING), db, days, config_values, verbose=verbose, job_name=RESCORE_JOB)
    if not outcome.success:
        raise _report_failure(outcome)
    console.print(
        f"re-scored {len(days)} days ({days[0]} .. {days[-1]}) with rules version {rules.version} "
        f"(hash {rules.content_hash[:12]}); run {', '.join(outcome.run_ids)}; published {db}"
    )
    if outcome.failed_checks:
        raise fail(f"failed data checks: {', '.join(outcome.failed_checks)} (details: {outcome.log_file})")


@app.command(epilog="Example: cx-signals demo --db /tmp/demo/cx.duckdb --customers 500 --days 7")
def demo(
    db: Annotated[
        Path, typer.Option(help="DuckDB file to publish; the sample goes into a landing/ folder beside it.")
    ] = DEFAULT_DB,
    customers: Annotated[int, typer.Option(min=1, help="Customers in the sample.")] = 2000,
    days: Annotated[int, typer.Option(min=1, help="Days of sample data, from 2026-10-01.")] = 14,
    playbook: _PLAYBOOK = None,
) -> None:
    """Generate a sample (2,000 customers, 14 days), run the pipeline on it and show the headline metrics. With
    DAGSTER_HOME set, its runs show in the Dagster UI."""
    landing = db.parent / "landing"
    generate(out=landing, days=days, customers=customers, seed=7, start="2026-10-01", playbook=playbook)
    _run(landing, db, None, verbose=False, playbook=playbook)
    console.print(
        f"\nReport for CX leaders: {database_files(db).report} (self-contained HTML)\n"
        "Query it (read-only; or with the duckdb CLI if you have it: duckdb -readonly FILE):\n"
        f'  {Path(sys.executable).with_name("cx-signals")} query "FROM metrics.daily_outcomes LIMIT 10" --db {db}\n'
        "Tables and columns are documented in the database (SELECT * FROM duckdb_columns()) and in docs/."
    )


def print_summary(db: Path, run_ids: list[str] | None = None) -> None:
    """Print row counts (with the reason a table is empty, from audit.runs.note of `run_ids`) and headline metrics
    per channel from the published file."""
    with duckdb.connect(str(db), read_only=True) as con:
        counts = RichTable("table", "rows", title="tables")
        empty = []
        for table in SUMMARY_TABLES:
            rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            counts.add_row(table, f"{rows:,}")
            if rows == 0:
                empty.append(table)
        console.print(counts)
        for table, note in empty_reasons(con, empty, run_ids or []).items():
            console.print(f"{table}: {note}", markup=False, highlight=False)
        # fits 80 columns (74 characters): no vertical rules, headers on several lines
        headline = RichTable(title="headline metrics", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
        headline.add_column("channel")
        for name in ("contacts", "contained", "CwQ", "FCR", "repeat", "cost/\ncontact", "cost to\nresolve\n(median)"):
            headline.add_column(name, justify="right")
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
    print_model_figures(database_files(db).models)


def empty_reasons(con: duckdb.DuckDBPyConnection, tables: list[str], run_ids: list[str]) -> dict[str, str]:
    """Why each of `tables` is empty ("is empty: no CSAT model"), and why each model the runs `run_ids` could not
    train was not trained ("need at least 30 surveyed contacts ..."): the notes those runs left in audit.runs, the
    latest day's of each asset. Tables without a note are left out; nothing when no table is empty."""
    if not tables or not run_ids:
        return {}
    rows = con.execute(
        """SELECT asset, arg_max(note, partition_date) FROM audit.runs
        WHERE note IS NOT NULL AND run_id IN (SELECT unnest($run_ids::VARCHAR[]))
          AND (asset IN (SELECT unnest($tables::VARCHAR[])) OR (asset LIKE 'models.%' AND note LIKE 'not trained%'))
        GROUP BY asset ORDER BY asset LIKE 'models.%', asset""",
        {"tables": tables, "run_ids": run_ids},
    ).fetchall()
    return {asset: note if asset.startswith("models.") else f"is empty: {note}" for asset, note in rows}


def print_files_read(db: Path, run_ids: list[str]) -> None:
    """Print the format each landing file was read as (the contract's own shape or an adapter's), with its records."""
    from cx_signals.adapters import files_read

    table = RichTable("source", title="landing files read")
    table.add_column("file", overflow="fold")
    table.add_column("format")
    table.add_column("read as")
    table.add_column("records", justify="right")
    with duckdb.connect(str(db), read_only=True) as con:
        for source, file, fmt, read_as, n in files_read(con, run_ids):
            table.add_row(source, file, fmt, read_as, f"{n:,}")
    console.print(table)


def _expected_fields(source: str, rule: str) -> str:
    from cx_signals.contracts import input_contracts

    contract = input_contracts()[source]
    if rule == "missing_required":
        required = [f.name for f in contract.fields if f.required]
        if contract.one_of_required:
            required.append(" or ".join(contract.one_of_required))
        return "the contract requires: " + ", ".join(required)
    return ""


def print_quarantine(db: Path, run_ids: list[str], max_share: float) -> list[str]:
    """Print, per source, the records these runs read and quarantined and the top reject reasons (with the fields
    the contract expected and an example file and line); return the sources whose quarantined share exceeds
    `max_share`."""
    with duckdb.connect(str(db), read_only=True) as con:
        shares = con.execute(sql_text("report/run_quarantine"), {"run_ids": run_ids}).fetchall()
        reasons = con.execute(sql_text("report/run_reject_reasons"), {"run_ids": run_ids}).fetchall()
    if not any(quarantined or files for _, _, quarantined, files in shares):
        return []
    table = RichTable("source", "records read", "quarantined", "share", title="quarantine (this run)")
    over = []
    for source, read, quarantined, files_rejected in shares:
        share = (quarantined + files_rejected) / max(read + files_rejected, 1)
        table.add_row(source, f"{read:,}", f"{quarantined:,} + {files_rejected} files", f"{share:.1%}")
        if share > max_share:
            over.append(source)
    console.print(table)
    console.print("[bold]top reject reasons[/]")
    for source, rule, field_name, n, example, reason in reasons:
        console.print(f"  {source}: {n:,} x {rule}" + (f" ({field_name})" if field_name else ""))
        expected = _expected_fields(source, rule)
        if expected:
            console.print(f"    {expected}")
        console.print(f"    e.g. {example}: {reason[:200]}", markup=False, highlight=False)
    return over


def model_metrics(directory: Path, kind: str) -> dict:
    """The held-out metrics of the newest model of `kind` (intent, csat, repeat_risk) in `directory`, or {}."""
    from cx_signals.ml.artefacts import latest_sidecar

    return (latest_sidecar(directory, kind) or {}).get("metrics", {})


def print_model_figures(directory: Path) -> None:
    """Print each model's held-out figure against its naive baseline, from the newest artefact of each kind."""
    figures = RichTable("model", "held-out figure", "naive baseline", "coverage", title="models (held-out)")
    intent = model_metrics(directory, "intent")
    if intent:
        abstention = ""
        if "abstention_threshold" in intent:
            abstention = (
                f", unknown below score {intent['abstention_threshold']:.3f} "
                f"(answers {intent['in_scope_answered_share']:.0%} of in-scope)"
            )
        figures.add_row(
            "intent triage", f"macro-F1 {intent['macro_f1']:.3f}", "-", f"{intent['n_classes']} intents{abstention}"
        )
    csat = model_metrics(directory, "csat")
    if csat:
        figures.add_row(
            "predicted CSAT",
            f"MAE {csat['mae']:.2f}",
            f"MAE {csat['baseline_mae']:.2f} (mean)",
            f"surveyed {csat['coverage_surveyed']:.0%} -> predicted 100%",
        )
    risk = model_metrics(directory, "repeat_risk")
    if risk:
        figures.add_row(
            "repeat-contact risk",
            f"ROC AUC {risk['roc_auc']:.2f}, Brier {risk['brier']:.3f}",
            f"AUC 0.50, Brier {risk['baseline_brier']:.3f} (base rate)",
            "open journeys",
        )
    if figures.row_count:
        console.print(figures)


@app.command(epilog="Example: cx-signals report --db cx_data/cx_signals.duckdb --out report.html")
def report(
    db: Annotated[Path, typer.Option(help="Published DuckDB file to report on.")] = DEFAULT_DB,
    out: Annotated[
        Path | None, typer.Option(help="HTML file to write (default: report.html in the database's side folder).")
    ] = None,
    config: _CONFIG = None,
) -> None:
    """Write one self-contained HTML report (no network needed to view it) from the metric tables."""
    from cx_signals.report import build_report

    try:
        parameters = load_config(config)
    except ConfigError as exc:
        raise usage_error(str(exc)) from None
    if not db.exists():
        raise fail(f"database {db} does not exist: run `cx-signals run` or `cx-signals demo` first")
    summary = build_report(db, out or database_files(db).report, parameters=parameters)
    filled = ", ".join(name for name, has_data in summary.sections.items() if has_data)
    console.print(
        f"wrote {summary.out} ({summary.size_bytes:,} bytes): {summary.contacts:,} contacts, "
        f"{summary.period_start} .. {summary.period_end}; sections with data: {filled}"
    )


def _score_cells(result: DetectorScore) -> tuple[str, ...]:
    """Planted, found, false alarms, precision and recall of a detector score, as table cells."""
    return (
        str(result.true_positives + result.false_negatives),
        str(result.true_positives),
        str(result.false_positives),
        f"{result.precision:.3f}",
        f"{result.recall:.3f}",
    )


@app.command(epilog="Example: cx-signals evaluate --landing cx_data/landing --db cx_data/cx_signals.duckdb")
def evaluate(
    landing: Annotated[Path, typer.Option(help="Generated landing folder (with its _truth/ folder).")],
    db: Annotated[Path, typer.Option(help="Database the pipeline published from that folder.")] = DEFAULT_DB,
) -> None:
    """Score the output against the planted truth of a generated landing folder: every detector's precision and
    recall against the rules as specified, the friction rules' (and the naive rules') precision and recall against
    what happened in each planted friction case, the outcomes that must match exactly, and each bot outcome's
    precision and recall with the loops against the planted ones."""
    from cx_signals.privacy import pseudonym_key
    from cx_signals.truth import bot_outcome_scores, case_scores, detector_scores, outcome_mismatches, rule_totals

    truth = landing / "_truth"
    if not truth.is_dir() or not db.exists():
        raise fail(f"need {truth} (from `cx-signals generate`) and {db} (from `cx-signals run`)")
    key = pseudonym_key(database_files(db).key_file)
    detectors = RichTable(
        "detector", "planted", "found", "false alarms", "precision", "recall",
        title="detectors (against the rules as specified)",
    )  # fmt: skip
    for name, result in detector_scores(db, truth, key).items():
        detectors.add_row(name, *_score_cells(result))
    console.print(detectors)
    # the case's name starts with the rule it tests (rage, dead, session); scored against what happened in the
    # scenario, for the pipeline's rule and for the naive rule (timing and position only)
    from cx_signals.generate.friction_cases import CASES, POSITIVE_WORD

    per_case = case_scores(db, truth, key, load_config().friction)
    # a case is all frustrated (ignored) or all calm (answered): the sessions a rule fired on are all hits or all
    # false alarms; "to spec": sessions where the pipeline found what the rule as specified finds (the planted counts)
    cases = RichTable(
        Column("case", no_wrap=True), "scenario", "sessions", "fired", "naive fired", "to spec",
        title="friction cases (sessions)",
    )  # fmt: skip
    for name, case in per_case.items():
        cases.add_row(
            name,
            POSITIVE_WORD[case.rule][CASES[name].positive],
            str(case.sessions),
            str(case.score.true_positives + case.score.false_positives),
            str(case.naive.true_positives + case.naive.false_positives),
            str(case.as_specified),
        )
    console.print(cases)
    rules = RichTable(
        "rule", "sessions", "positive", "precision", "recall", "naive precision", "naive recall",
        title="friction rules on the cases (against the scenarios)",
    )  # fmt: skip
    for rule, total in rule_totals(per_case).items():
        rules.add_row(
            rule,
            str(total.sessions),
            str(total.positive),
            *(f"{value:.3f}" for value in (total.score.precision, total.score.recall)),
            *(f"{value:.3f}" for value in (total.naive.precision, total.naive.recall)),
        )
    console.print(rules)
    exact = RichTable("outcome", "contacts that differ from the truth", title="exact outcomes")
    for name, mismatched in outcome_mismatches(db, truth).items():
        exact.add_row(name, str(mismatched))
    console.print(exact)
    bots = bot_outcome_scores(db, truth)
    outcomes = RichTable(
        "bot outcome", "planted", "found", "false alarms", "precision", "recall",
        title="bot outcomes (signals.bot_outcomes against the planted outcome)",
        caption=f"{bots.same_outcome:,} of {bots.planted:,} planted bot conversations have the planted outcome "
        f"({bots.classed:,} classed); {bots.same_loops:,} the planted loop count; "
        f"bot loops planted {bots.planted_loops:,}, found {bots.found_loops:,}",
    )  # fmt: skip
    for name, result in bots.outcomes.items():
        outcomes.add_row(name, *_score_cells(result))
    console.print(outcomes)


@bench_app.command("sentiment", epilog="Example: cx-signals bench sentiment --processes 2")
def bench_sentiment(
    landing: Annotated[Path | None, typer.Option(help="Landing folder whose turn texts to score.")] = None,
    processes: Annotated[int | None, typer.Option(help="Worker processes (default: CPU count).")] = None,
) -> None:
    """Utterances per second of the batched scorer vs a plain VADER loop, on the same texts, same run."""
    import tempfile

    from cx_signals.landing import discover, read_file
    from cx_signals.sentiment import benchmark, benchmark_report

    with tempfile.TemporaryDirectory() as scratch, step_progress(err, "reading turn texts"):
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


@bench_app.command("pipeline", epilog="Example: cx-signals bench pipeline --scale S --out bench-S.json")
def bench_pipeline(
    scale: Annotated[str, typer.Option(help="S = 7 days x 10,000 customers, M = 30 x 50,000, L = 90 x 150,000.")] = "S",
    out: Annotated[Path | None, typer.Option(help="JSON file to write (rewritten after every phase).")] = None,
    days: Annotated[int | None, typer.Option(min=1, help="Override the scale's days.")] = None,
    customers: Annotated[int | None, typer.Option(min=1, help="Override the scale's customers.")] = None,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 11,
    cache: Annotated[
        Path | None, typer.Option(help="Workload cache (default $CX_SIGNALS_BENCH_CACHE or ~/.cache/cx-signals/bench).")
    ] = None,
    incremental: Annotated[
        bool, typer.Option(help="Time day N+1 on top of N days against day N+1 on an empty database.")
    ] = True,
    demo: Annotated[bool, typer.Option("--demo", help="Also time `cx-signals demo`.")] = False,
    dagster_path: Annotated[
        bool, typer.Option("--dagster-path", help="Also time `dagster asset materialize` against `run` on 2 days.")
    ] = False,
    workload: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            file_okay=False,
            help="A workload folder of the cache to measure as it is, even if an older generator wrote it "
            "(compares two pipeline versions on the same files).",
        ),
    ] = None,
) -> None:
    """Time the pipeline end to end on a generated workload, per stage with rows/s and RSS, against bare DuckDB
    loading the same files and a plain VADER loop, and evaluate the performance targets."""
    import signal

    from dagster_defs.bench import SCALES, BenchError, report_tables, run_bench

    if scale.upper() not in SCALES:
        raise usage_error(f"--scale must be one of {', '.join(SCALES)}, not {scale!r}")
    # SIGTERM (e.g. from `timeout`) unwinds like Ctrl-C: the running phase is stopped and the scratch folder removed
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        with step_progress(err, f"scale {scale.upper()}") as progress:
            task = progress.tasks[0].id

            def phase(message: str) -> None:
                console.print(message, highlight=False)
                progress.update(task, description=message.rstrip(". "))

            result = run_bench(
                scale.upper(),
                days,
                customers,
                seed,
                cache,
                out,
                incremental,
                demo,
                dagster_path,
                progress=phase,
                workload=workload,
            )
    except BenchError as exc:
        raise fail(str(exc)) from None
    for table in report_tables(result):
        console.print(table)
    if out is not None:
        console.print(f"wrote {out}")


@app.command(epilog="Example: cx-signals erase --db cx_data/cx_signals.duckdb --customer-id C-1042 --customer-id C-7")
def erase(
    customer_id: Annotated[
        list[str], typer.Option("--customer-id", help="Customer id to erase, as the sources give it; repeatable.")
    ],
    db: Annotated[Path, typer.Option(help="Published DuckDB file (its working file is erased too).")] = DEFAULT_DB,
    config: _CONFIG = None,
) -> None:
    """Erase customers from the working and the published file (quarantine payloads included), record each erasure
    in audit.erasures by pseudonym only, keep them out of later runs and mark every model for retraining.

    Waits for a running pipeline (run and write locks). Exit codes: 0 ok; 1 failed (run it again: it is
    idempotent); 2 usage error.
    """
    from cx_signals.erasure import erase_customers, requesting_user
    from cx_signals.locking import LockTimeout
    from cx_signals.storage import Storage

    try:
        config_values = load_config(config)
    except ConfigError as exc:
        raise usage_error(str(exc)) from None
    if not any(c.strip() for c in customer_id):
        raise usage_error("--customer-id is empty")
    _check_writable(db)
    files = database_files(db)
    try:
        erasures = erase_customers(
            files,
            customer_id,
            config_values.locks.timeout_seconds,
            requesting_user(),
            Storage.from_config(config_values),
        )
    except LockTimeout as exc:
        raise fail(str(exc)) from None
    removed = RichTable("customer_key", "table", "working", "published", title="rows removed (audit.erasures)")
    for erasure in erasures:
        working, published = erasure.rows_removed["working"], erasure.rows_removed.get("published", {})
        for table in sorted(working.keys() | published.keys()):
            removed.add_row(erasure.customer_key, table, f"{working.get(table, 0):,}", f"{published.get(table, 0):,}")
        if not working and not published:
            removed.add_row(erasure.customer_key, "none (not loaded yet)", "0", "0")
    console.print(removed)
    console.print("later runs drop their records from the landing files (audit.runs.records_erased)")
    console.print(f"models marked for retraining at the next run: {files.models}")


@app.command(
    epilog='Example: cx-signals query "SELECT channel, count(*) FROM metrics.contact_outcomes GROUP BY 1" --format csv'
)
def query(
    sql: Annotated[str, typer.Argument(help="The SQL to run (one statement; tables as schema.table).")],
    db: Annotated[Path, typer.Option(help="Published DuckDB file to query (opened read-only).")] = DEFAULT_DB,
    fmt: Annotated[
        str, typer.Option("--format", help="table (for reading), csv or json (every row, for other programs).")
    ] = "table",
    max_rows: Annotated[int, typer.Option(min=1, help="Rows shown by --format table; the rest are counted.")] = 100,
) -> None:
    """Run SQL on the published file, read-only, and print the result. Columns are described in the database
    (SELECT * FROM duckdb_columns()) and in docs/data-dictionary.md. Exit codes: 0 ok; 2 bad SQL, option or path."""
    if fmt not in QUERY_FORMATS:
        raise usage_error(f"--format must be one of {', '.join(QUERY_FORMATS)}, not {fmt!r}")
    if not db.is_file():
        raise usage_error(f"database {db} does not exist: run `cx-signals run` or `cx-signals demo`, or pass --db")
    # read-only, and no file outside the database may be read or written (COPY TO, ATTACH, read_csv)
    with duckdb.connect(str(db), read_only=True, config={"enable_external_access": False}) as con:
        try:
            result = con.execute(sql)
        except duckdb.Error as exc:
            raise usage_error(" ".join(str(exc).split("\n")[0].split())) from None
        print_query(result, fmt, max_rows, console)


@app.command(epilog="Example: cx-signals validate --landing ../exports --config my.yml")
def validate(
    landing: _LANDING,
    config: _CONFIG = None,
    playbook: _PLAYBOOK = None,
) -> None:
    """Dry run: per landing file, the format it would be read as, the records that would load and those that would
    be quarantined, with the top reasons. Writes nothing: no database, no side folder, no manifest.

    Exit codes: 0 ok; 2 usage error (bad option, config value or path); 3 a source's quarantined share of records
    would exceed ingest.max_quarantine_share (as `cx-signals run` would exit)."""
    from cx_signals.dry_run import dry_run
    from cx_signals.landing import LandingPathError

    try:
        config_values = load_config(config, playbook)
    except ConfigError as exc:
        raise usage_error(str(exc)) from None
    try:
        with step_progress(err, "scanning") as progress:
            task = progress.tasks[0].id
            verdict = dry_run(landing, config_values, lambda message: progress.update(task, description=message))
    except LandingPathError as exc:
        raise usage_error(str(exc)) from None
    if not verdict.files:
        raise usage_error(f"no landing files under {landing}/{{{','.join(SOURCES)}}}/")
    print_dry_run(verdict, console)
    limit = config_values.ingest.max_quarantine_share
    over = sorted({f.source for f in verdict.files if verdict.share_quarantined(f.source) > limit})
    if over:
        raise fail(
            f"{', '.join(over)}: more than {limit:.0%} of the records would be quarantined "
            "(ingest.max_quarantine_share); see the reasons above",
            ExitCode.TOO_MUCH_QUARANTINED,
        )
    console.print("dry run: nothing was written", highlight=False)
