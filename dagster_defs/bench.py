"""Scale benchmark: the whole pipeline on a generated workload, against bare DuckDB and a plain VADER loop.

`run_bench` generates (once; cached by days, customers, seed and generator version) a landing folder with the
project's own generator, then measures, each phase in a child process of its own so that its peak resident set
(VmHWM, reported by the child) and CPU time (``os.wait4``) are its own:

- pipeline: what `cx-signals run` does (find the landing days, run every asset, check and publish) on a fresh
  database, with per-step times, rows and sampled resident set from the run's Dagster event log;
- duckdb: bare DuckDB loading the same files (read_json of the transcripts with the turns unnested, read_json of
  the telemetry, read_parquet of the events) into a fresh DuckDB file with CREATE TABLE AS;
- vader: ``SentimentIntensityAnalyzer().polarity_scores`` over every turn text, one process;
- incremental: N days, then day N+1 on that database, against day N+1 alone on an empty one;
- optionally `cx-signals demo`, and `dagster asset materialize` against `cx-signals run` on two days.

The phases run as ``python -m dagster_defs.bench PHASE ARGS.json RESULT.json``; only the pipeline phase imports
Dagster, lazily, like the `run` command does.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table as RichTable

if TYPE_CHECKING:
    from cx_signals.config import Parameters

SCALES: dict[str, tuple[int, int]] = {"S": (7, 10_000), "M": (30, 50_000), "L": (90, 150_000)}
DEFAULT_SEED = 11
START = date(2026, 10, 1)
CACHE_ENV = "CX_SIGNALS_BENCH_CACHE"
SOURCES = ("transcripts", "telemetry", "events")
SENTIMENT_STEP = "signals__turn_sentiment"
RSS_SAMPLE_SECONDS = 0.05
MIB = 1024 * 1024
# The operators' instance settings (dagster_home/dagster.yaml): pools of one step, no telemetry.
DAGSTER_YAML = "concurrency:\n  pools:\n    default_limit: 1\ntelemetry:\n  enabled: false\n"

# name -> (what, limit, "<" or "<=", unit, scale it is defined for or None for every scale)
TARGETS: dict[str, tuple[str, float, str, str, str | None]] = {
    "end_to_end_seconds": ("pipeline end to end, excluding generation", 240, "<", "s", "M"),
    "pipeline_vs_duckdb": ("pipeline end to end / bare DuckDB load", 3.0, "<=", "x", None),
    "peak_rss_gib": ("peak RSS of the pipeline process", 3.0, "<", "GiB", None),
    "incremental_day": ("day N+1 on top of N days / day N+1 on an empty database", 1.25, "<=", "x", None),
    "checks_share": ("asset-check steps, share of the Dagster run", 10, "<=", "%", None),
    "demo_seconds": ("`cx-signals demo`, generation included", 30, "<", "s", None),
    "dagster_vs_cli": ("`dagster asset materialize` / `cx-signals run`, 2 days", 1.5, "<=", "x", None),
}


class BenchError(RuntimeError):
    """A phase of the benchmark failed; the message holds the end of its log."""


@dataclass(frozen=True)
class ChildRun:
    """A finished child process: wall and CPU time (s, CPU of its waited-for descendants included) and the peak
    resident set of the child process itself (MiB)."""

    wall_seconds: float
    cpu_seconds: float
    peak_rss_mib: float
    exit_code: int
    log: Path

    def figures(self) -> dict[str, float | None]:
        """The measured figures as a JSON-ready dict."""
        return {
            "wall_seconds": self.wall_seconds,
            "cpu_seconds": self.cpu_seconds,
            "peak_rss_mib": self.peak_rss_mib,
        }


def cache_root() -> Path:
    """The workload cache folder: $CX_SIGNALS_BENCH_CACHE, else ~/.cache/cx-signals/bench."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "cx-signals" / "bench")


def workload_key(days: int, customers: int, seed: int) -> str:
    """The cache folder name of a workload: its size, seed, first day and a hash of the generator's source."""
    generator = hashlib.sha256()
    for source in _generator_sources():
        generator.update(source.read_bytes())
    return f"{days}d-{customers}c-seed{seed}-{START.isoformat()}-gen{generator.hexdigest()[:10]}"


def _generator_sources() -> list[Path]:
    """The source files of the sample-data generator `cx_signals.generate` (a module or a package), in order."""
    spec = importlib.util.find_spec("cx_signals.generate")
    if spec is None or spec.origin is None:
        raise BenchError("cannot find the generator cx_signals.generate")
    if spec.submodule_search_locations:
        return sorted(p for folder in spec.submodule_search_locations for p in Path(folder).rglob("*.py"))
    return [Path(spec.origin)]


def run_child(command: list[str], log: Path, env: dict[str, str] | None = None) -> ChildRun:
    """Run `command` to its end with output to `log`; its wall and CPU seconds and peak RSS from ``os.wait4``.

    That peak cannot be below this process's own resident set: Linux keeps the high-water mark a child had before
    it exec'd, when it was a copy of this process. Phases of this module report their own peak instead."""
    with log.open("wb") as out:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            _, status, usage = os.wait4(child.pid, 0)
        except BaseException:
            # an interrupted benchmark must not leave its phase running (Dagster defers SIGTERM to a step's end)
            child.kill()
            child.wait()
            raise
        wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in KiB on Linux; it covers the child and the descendants it waited for (the largest of them).
    return ChildRun(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, child.returncode, log)


def _log_tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def run_phase(phase: str, args: dict[str, Any], work: Path, env: dict[str, str] | None = None) -> tuple[ChildRun, Any]:
    """Run one phase of this module in a child process; its measurements and the JSON result it wrote."""
    args_file, result_file = work / f"{phase}.args.json", work / f"{phase}.result.json"
    args_file.write_text(json.dumps(args), encoding="utf-8")
    result_file.unlink(missing_ok=True)
    command = [sys.executable, "-m", "dagster_defs.bench", phase, str(args_file), str(result_file)]
    child = run_child(command, work / f"{phase}.log", env)
    if child.exit_code != 0 or not result_file.exists():
        raise BenchError(f"phase {phase} exited with {child.exit_code}; end of {child.log}:\n{_log_tail(child.log)}")
    written = json.loads(result_file.read_text(encoding="utf-8"))
    child = replace(child, peak_rss_mib=written["peak_rss_mib"])
    return child, written["result"]


# ---------------------------------------------------------------------------------------------------- child phases


def phase_generate(out: str, days: int, customers: int, seed: int) -> dict[str, int]:
    """Write the workload's landing folder; the generator's row counts."""
    from cx_signals.config import load_config
    from cx_signals.generate import generate_landing

    repeat_window = load_config()["outcomes"]["repeat_window_days"]
    return generate_landing(Path(out), days, customers, seed, START, repeat_window)


def _glob(landing: str, source: str, pattern: str) -> str:
    return str(Path(landing) / source / pattern).replace("'", "''")


def phase_duckdb(landing: str, db: str) -> dict[str, Any]:
    """Bare DuckDB: the three kinds of files into a fresh DuckDB file with CREATE TABLE AS; seconds and rows each."""
    import duckdb

    statements = {
        "turns": "SELECT conversation_id, customer_id, channel, started_at, ended_at, UNNEST(turns, recursive := true) "
        f"FROM read_json('{_glob(landing, 'transcripts', '*.jsonl.gz')}', format = 'newline_delimited')",
        "telemetry": f"SELECT * FROM read_json('{_glob(landing, 'telemetry', '*.jsonl')}', "
        "format = 'newline_delimited')",
        "events": f"SELECT * FROM read_parquet('{_glob(landing, 'events', '*.parquet')}')",
    }
    figures: dict[str, Any] = {}
    started = time.perf_counter()
    with duckdb.connect(db) as con:
        for table, query in statements.items():
            start = time.perf_counter()
            con.execute(f"CREATE TABLE {table} AS {query}")
            figures[table] = {
                "seconds": time.perf_counter() - start,
                "rows": con.execute(f"SELECT count(*) FROM {table}").fetchone()[0],
            }
        con.execute("CHECKPOINT")
    figures["seconds"] = time.perf_counter() - started
    return figures


def phase_vader(landing: str) -> dict[str, Any]:
    """The plain VADER loop over every turn text of the landing's transcripts; texts, reading and scoring seconds.

    One day's file at a time (reading timed apart from scoring), so memory stays at one day's texts."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    n_texts, read_seconds, seconds = 0, 0.0, 0.0
    for path in sorted((Path(landing) / "transcripts").glob("*.jsonl.gz")):
        started = time.perf_counter()
        texts = []
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                texts.extend(turn.get("text") or "" for turn in json.loads(line).get("turns") or [])
        read_seconds += time.perf_counter() - started
        started = time.perf_counter()
        for text in texts:
            analyzer.polarity_scores(text)
        seconds += time.perf_counter() - started
        n_texts += len(texts)
    return {"texts": n_texts, "read_seconds": read_seconds, "seconds": seconds, "per_second": n_texts / seconds}


class _RssSampler(threading.Thread):
    """Samples this process's resident set (bytes) every RSS_SAMPLE_SECONDS, as (epoch seconds, bytes)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, int]] = []
        self.stop = threading.Event()
        self.page = os.sysconf("SC_PAGE_SIZE")

    def run(self) -> None:
        while not self.stop.is_set():
            with open("/proc/self/statm", encoding="ascii") as statm:
                self.samples.append((time.time(), int(statm.read().split()[1]) * self.page))
            self.stop.wait(RSS_SAMPLE_SECONDS)

    def peak_mib(self, start: float, end: float) -> float | None:
        """The largest sample in [start, end], else the first one after start (a step shorter than the interval)."""
        inside = [rss for t, rss in self.samples if start <= t <= end]
        after = [rss for t, rss in self.samples if t >= start][:1]
        chosen = inside or after
        return max(chosen) / MIB if chosen else None


def accepting_workload(config: Parameters, last_day: str | None, now: datetime) -> Parameters:
    """`config` with `ingest.max_future_skew_hours` raised, when needed, so that records up to the end of `last_day`
    (a workload's last day, seen from `now`, UTC) are not future timestamps."""
    if last_day is None:
        return config
    ahead = (datetime.fromisoformat(last_day) + timedelta(days=1) - now).total_seconds() / 3600
    if ahead <= config.ingest.max_future_skew_hours:
        return config
    return config.merged({"ingest": {"max_future_skew_hours": math.ceil(ahead)}})


def phase_pipeline(landing: str, runs: list[dict[str, Any]], last_day: str | None = None) -> list[dict[str, Any]]:
    """Run the pipeline as `cx-signals run` does, once per entry of `runs` ({db, days or None for the days the
    landing holds, models_from: a database whose models to copy first}); seconds, steps and outcome of each.

    A workload whose `last_day` lies ahead of today (L, generated from 2026-10-01 over 90 days) is accepted whole:
    `ingest.max_future_skew_hours` is raised to reach past it, or its last days would be quarantined as future."""
    from cx_signals.config import load_config
    from cx_signals.ingest import landing_days
    from cx_signals.landing import scan
    from cx_signals.paths import database_files
    from dagster_defs.runner import run_pipeline

    config = accepting_workload(load_config(), last_day, datetime.now(UTC).replace(tzinfo=None))
    sampler = _RssSampler()
    sampler.start()
    results = []
    for spec in runs:
        db = Path(spec["db"])
        db.parent.mkdir(parents=True, exist_ok=True)
        models = spec.get("models_from") and database_files(spec["models_from"]).models
        if models and models.is_dir():
            shutil.copytree(models, database_files(db).models)
        started = time.perf_counter()
        days = (
            [date.fromisoformat(d) for d in spec["days"]]
            if spec.get("days")
            else sorted(landing_days(scan(Path(landing)).files, config))
        )
        prepare_seconds = time.perf_counter() - started
        started = time.perf_counter()
        outcome = run_pipeline(Path(landing), db, days, config)
        run_seconds = time.perf_counter() - started
        results.append(
            {
                "db": str(db),
                "days": [days[0].isoformat(), days[-1].isoformat()],
                "n_days": len(days),
                "success": outcome.success and not outcome.failed_checks,
                "failures": [str(f) for f in outcome.failures] + outcome.failed_checks,
                "log_file": str(outcome.log_file),
                "prepare_seconds": prepare_seconds,
                "run_seconds": run_seconds,
                "steps": [
                    {
                        "step": s.step,
                        "kind": "check" if s.is_check else "asset",
                        "seconds": s.finished - s.started,
                        "rows_written": s.rows_written,
                        "records_read": s.records_read,
                        "peak_rss_mib": sampler.peak_mib(s.started, s.finished),
                    }
                    for s in outcome.steps
                ],
            }
        )
    sampler.stop.set()
    return results


_PHASES: dict[str, Callable[..., Any]] = {
    "generate": phase_generate,
    "duckdb": phase_duckdb,
    "vader": phase_vader,
    "pipeline": phase_pipeline,
}


def _own_peak_rss_mib() -> float:
    """This process's resident-set high-water mark since its exec (VmHWM), in MiB."""
    status = Path("/proc/self/status").read_text(encoding="ascii")
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")) / 1024


def main(argv: list[str]) -> None:
    """Child entry point: ``PHASE ARGS.json RESULT.json``; the result is written with this process's peak RSS."""
    phase, args_file, result_file = argv
    result = _PHASES[phase](**json.loads(Path(args_file).read_text(encoding="utf-8")))
    written = {
        "result": result,
        "peak_rss_mib": _own_peak_rss_mib(),
    }
    Path(result_file).write_text(json.dumps(written, default=str), encoding="utf-8")


# ---------------------------------------------------------------------------------------------------- orchestration


def machine_info() -> dict[str, Any]:
    """Cores, RAM (GiB), CPU model, load average and the versions of Python, DuckDB and Dagster."""
    from importlib.metadata import version

    def proc_value(file: str, name: str) -> str | None:
        try:
            lines = Path(file).read_text(encoding="utf-8").splitlines()
        except OSError:
            return None
        return next((line.split(":", 1)[1].strip() for line in lines if line.startswith(name)), None)

    mem_kib = proc_value("/proc/meminfo", "MemTotal")
    return {
        "cores": os.cpu_count(),
        "cores_available": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "ram_gib": round(int(mem_kib.split()[0]) / MIB, 1) if mem_kib else None,
        "cpu_model": proc_value("/proc/cpuinfo", "model name") or platform.processor(),
        "load_average_1m_at_start": os.getloadavg()[0],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": version("duckdb"),
        "dagster": version("dagster"),
        "vaderSentiment": version("vaderSentiment"),
    }


def workload_files(landing: Path) -> dict[str, dict[str, float]]:
    """Files and MB (10^6 bytes) per source folder of a landing folder."""
    sizes = {}
    for source in SOURCES:
        files = [p for p in (landing / source).rglob("*") if p.is_file()]
        sizes[source] = {"files": len(files), "mb": sum(p.stat().st_size for p in files) / 1e6}
    return sizes


def ensure_workload(
    days: int, customers: int, seed: int, cache: Path, work: Path, reuse: Path | None = None
) -> dict[str, Any]:
    """The cached workload (generated in a child process when missing): its folder, counts and generation figures.

    `reuse` names a workload folder to measure as it is, even one an older generator wrote (its folder name keeps
    that generator's version), so that two versions of the pipeline are compared on the same files."""
    folder = reuse or cache / workload_key(days, customers, seed)
    meta_file = folder / "workload.json"
    cached = meta_file.exists()
    if reuse is not None:
        if not cached:
            raise BenchError(f"{reuse} is not a benchmark workload (it has no workload.json)")
        size = workload_key(days, customers, seed).rsplit("-gen", 1)[0]
        if not reuse.name.startswith(size + "-gen"):
            raise BenchError(f"{reuse.name} is not the workload of {days} days x {customers} customers, seed {seed}")
    if not cached:
        cache.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=cache))
        try:
            child, counts = run_phase(
                "generate",
                {"out": str(partial / "landing"), "days": days, "customers": customers, "seed": seed},
                work,
            )
            meta = {"counts": counts, "generation": child.figures(), "generated_at": _now()}
            (partial / "workload.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
            partial.rename(folder)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    landing = folder / "landing"
    return {
        "days": days,
        "customers": customers,
        "seed": seed,
        "start": START.isoformat(),
        "landing": str(landing),
        "cached": cached,
        "folder": folder.name,
        **meta,
        "files": workload_files(landing),
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def stage_rows(pipeline: dict[str, Any], run: dict[str, Any]) -> list[dict[str, Any]]:
    """Stages of the end-to-end run summing to its wall time: start-up, landing days, every step, Dagster's
    own time between steps; seconds, share of the wall time, rows written per second and sampled RSS (MiB)."""
    wall = pipeline["wall_seconds"]
    steps_seconds = sum(s["seconds"] for s in run["steps"])
    rows = [
        {
            "step": "process start and imports",
            "kind": "cli",
            "seconds": wall - run["prepare_seconds"] - run["run_seconds"],
        },
        {"step": "find landing days (reads every file)", "kind": "cli", "seconds": run["prepare_seconds"]},
        *run["steps"],
        {"step": "Dagster between steps", "kind": "dagster", "seconds": run["run_seconds"] - steps_seconds},
    ]
    for row in rows:
        row["share"] = row["seconds"] / wall if wall else None
        written = row.get("rows_written") or 0
        row["rows_per_second"] = written / row["seconds"] if written and row["seconds"] > 0 else None
    return rows


def _target(name: str, figure: float | None, scale: str, note: str = "") -> dict[str, Any]:
    what, limit, op, unit, for_scale = TARGETS[name]
    if figure is None:
        status = "not measured"
    elif for_scale is not None and scale != for_scale:
        status = "n/a"
        note = note or f"defined for --scale {for_scale}; this run is {scale}"
    else:
        status = "met" if (figure < limit if op == "<" else figure <= limit) else "missed"
    return {
        "name": name,
        "what": what,
        "figure": figure,
        "limit": f"{op} {limit:g}",
        "unit": unit,
        "status": status,
        "note": note,
    }


def evaluate_targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target with its figure and status: met, missed, not measured (phase not run) or n/a (other scale)."""
    phases, ratios, scale = result["phases"], result["ratios"], result["workload"]["scale"]
    pipeline = phases.get("pipeline")
    return [
        _target("end_to_end_seconds", pipeline and pipeline["wall_seconds"], scale),
        _target("pipeline_vs_duckdb", ratios.get("pipeline_vs_duckdb"), scale),
        _target("peak_rss_gib", pipeline and pipeline["peak_rss_mib"] / 1024, scale),
        _target(
            "incremental_day",
            ratios.get("incremental_day"),
            scale,
            "run time in one warm process, both runs scoring with the same models",
        ),
        _target("checks_share", result["checks"]["share"] * 100 if "checks" in result else None, scale),
        _target("demo_seconds", phases.get("demo", {}).get("wall_seconds"), scale),
        _target("dagster_vs_cli", ratios.get("dagster_vs_cli"), scale),
    ]


def _pipeline_phase(
    landing: Path, runs: list[dict[str, Any]], work: Path, last_day: date | None = None
) -> tuple[ChildRun, list[dict[str, Any]]]:
    # DAGSTER_HOME would make the runs persist in that instance; `cx-signals run` without it uses an ephemeral one.
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    arguments = {"landing": str(landing), "runs": runs, "last_day": last_day.isoformat() if last_day else None}
    child, outcomes = run_phase("pipeline", arguments, work, env)
    for outcome in outcomes:
        if not outcome["success"]:
            raise BenchError(f"pipeline run on {outcome['db']} failed:\n" + "\n".join(outcome["failures"]))
    return child, outcomes


def _dagster_path(landing: Path, first: date, work: Path) -> dict[str, Any]:
    """`dagster asset materialize` of every asset for two days against `cx-signals run` on the same two days."""
    days = [first, first + timedelta(days=1)]
    two_days = work / "two-days"
    for source in SOURCES:
        (two_days / source).mkdir(parents=True)
        for path in (landing / source).iterdir():
            if any(day.isoformat() in path.name for day in days):
                shutil.copy2(path, two_days / source / path.name)
    home = work / "dagster-home"
    home.mkdir()
    (home / "dagster.yaml").write_text(DAGSTER_YAML, encoding="utf-8")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "CX_SIGNALS_LANDING": str(two_days),
        "CX_SIGNALS_DB": str(work / "dagster" / "cx.duckdb"),
    }
    command = [
        str(Path(sys.executable).with_name("dagster")),
        "asset",
        "materialize",
        "-m",
        "dagster_defs.definitions",
        "--select",
        "*",
        "--partition-range",
        f"{days[0]}...{days[1]}",
    ]
    dagster = run_child(command, work / "dagster.log", env)
    if dagster.exit_code != 0:
        raise BenchError(f"dagster asset materialize exited with {dagster.exit_code}:\n{_log_tail(dagster.log)}")
    cli, _ = _pipeline_phase(two_days, [{"db": str(work / "cli-two-days" / "cx.duckdb")}], work)
    return {
        "days": [d.isoformat() for d in days],
        "command": " ".join(command[1:]),
        "dagster": dagster.figures(),
        "cx_signals_run": cli.figures(),
    }


def run_bench(
    scale: str,
    days: int | None = None,
    customers: int | None = None,
    seed: int = DEFAULT_SEED,
    cache: Path | None = None,
    out: Path | None = None,
    incremental: bool = True,
    demo: bool = False,
    dagster_path: bool = False,
    progress: Callable[[str], None] = print,
    workload: Path | None = None,
) -> dict[str, Any]:
    """Measure every phase (see the module docstring) and return the figures, ratios and targets; with `out`, the
    JSON is rewritten after every phase, so an interrupted benchmark keeps what it measured."""
    scale_days, scale_customers = SCALES[scale]
    days, customers = days or scale_days, customers or scale_customers
    label = scale if (days, customers) == (scale_days, scale_customers) else f"{scale} overridden"
    cache = cache or cache_root()
    cache.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "benchmark": "cx-signals bench pipeline",
        "started_at": _now(),
        "machine": machine_info(),
        "phases": {},
        "ratios": {},
    }

    def save(stage: str) -> None:
        result["completed"] = stage
        result["targets"] = evaluate_targets(result)
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")

    with tempfile.TemporaryDirectory(prefix="run-", dir=cache) as scratch:
        work = Path(scratch)
        progress(f"workload {days} days x {customers:,} customers, seed {seed} (cache {cache}) ...")
        result["workload"] = {"scale": label, **ensure_workload(days, customers, seed, cache, work, workload)}
        landing = Path(result["workload"]["landing"])
        phases, ratios = result["phases"], result["ratios"]
        save("workload")

        progress("bare DuckDB load ...")
        child, figures = run_phase("duckdb", {"landing": str(landing), "db": str(work / "bare.duckdb")}, work)
        phases["duckdb"] = {**child.figures(), **figures}
        progress("plain VADER loop ...")
        child, figures = run_phase("vader", {"landing": str(landing)}, work)
        phases["vader"] = {**child.figures(), **figures}
        save("baselines")

        progress("pipeline end to end on a fresh database ...")
        last_day = START + timedelta(days=days - 1)
        child, (run,) = _pipeline_phase(landing, [{"db": str(work / "full" / "cx.duckdb")}], work, last_day)
        pipeline = phases["pipeline"] = {**child.figures(), **{k: v for k, v in run.items() if k != "steps"}}
        result["stages"] = stage_rows(pipeline, run)
        checks = [s for s in run["steps"] if s["kind"] == "check"]
        result["checks"] = {
            "steps": len(checks),
            "seconds": sum(s["seconds"] for s in checks),
            "share": sum(s["seconds"] for s in checks) / run["run_seconds"],
        }
        ratios["pipeline_vs_duckdb"] = pipeline["wall_seconds"] / phases["duckdb"]["wall_seconds"]
        sentiment = next((s for s in run["steps"] if s["step"] == SENTIMENT_STEP), None)
        if sentiment:
            ratios["sentiment_vs_vader"] = sentiment["seconds"] / phases["vader"]["seconds"]
        save("pipeline")

        day_names = [(START + timedelta(days=n)).isoformat() for n in range(days)]
        if incremental and days >= 2:
            progress(f"incremental: days 1-{days - 1}, then day {days} on top, against day {days} alone ...")
            history, alone = str(work / "history" / "cx.duckdb"), str(work / "alone" / "cx.duckdb")
            child, (first, single, on_top) = _pipeline_phase(
                landing,
                [
                    {"db": history, "days": day_names[:-1]},
                    {"db": alone, "days": day_names[-1:], "models_from": history},
                    {"db": history, "days": day_names[-1:]},
                ],
                work,
                last_day,
            )
            phases["incremental"] = {
                **child.figures(),
                "history_days": days - 1,
                "history_run_seconds": first["run_seconds"],
                "day_alone_run_seconds": single["run_seconds"],
                "day_on_top_run_seconds": on_top["run_seconds"],
            }
            ratios["incremental_day"] = on_top["run_seconds"] / single["run_seconds"]
            save("incremental")

        if dagster_path and days >= 2:
            progress("dagster asset materialize vs cx-signals run, 2 days ...")
            phases["dagster_path"] = _dagster_path(landing, START, work)
            ratios["dagster_vs_cli"] = (
                phases["dagster_path"]["dagster"]["wall_seconds"]
                / phases["dagster_path"]["cx_signals_run"]["wall_seconds"]
            )
            save("dagster_path")

        if demo:
            progress("cx-signals demo ...")
            command = [
                str(Path(sys.executable).with_name("cx-signals")),
                "demo",
                "--db",
                str(work / "demo" / "cx.duckdb"),
            ]
            child = run_child(command, work / "demo.log")
            if child.exit_code != 0:
                raise BenchError(f"cx-signals demo exited with {child.exit_code}:\n{_log_tail(child.log)}")
            phases["demo"] = child.figures()
            save("demo")
    result["finished_at"] = _now()
    result["machine"]["load_average_1m_at_end"] = os.getloadavg()[0]
    save("all")
    return result


# ---------------------------------------------------------------------------------------------------- console


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def report_tables(result: dict[str, Any]) -> list[RichTable]:
    """Console tables of a `run_bench` result: workload, stages (checks as one row), phases, ratios, targets."""
    w = result["workload"]
    counts = w["counts"]
    workload = RichTable("workload", "figure", title=f"workload {w['scale']} (cached: {w['cached']})")
    workload.add_row("days x customers, seed", f"{w['days']} x {w['customers']:,}, {w['seed']}")
    for name in ("conversations", "turns", "conversation_events", "events", "telemetry"):
        workload.add_row(name, f"{counts[name]:,}")
    for source, size in w["files"].items():
        workload.add_row(f"{source} files", f"{size['files']} files, {size['mb']:,.1f} MB")
    workload.add_row(
        "generation (s, peak RSS MiB)",
        f"{_num(w['generation']['wall_seconds'])} s, {_num(w['generation']['peak_rss_mib'], 0)} MiB",
    )

    stages = RichTable(
        "stage",
        "seconds",
        "share",
        "rows written",
        "rows/s",
        "RSS MiB (sampled)",
        title="pipeline end to end, per stage",
    )
    checks = result.get("checks")
    for row in result.get("stages", []):
        if row["kind"] == "check":
            continue
        stages.add_row(
            row["step"],
            _num(row["seconds"], 2),
            f"{row['share']:.1%}",
            f"{row['rows_written']:,}" if row.get("rows_written") else "-",
            _num(row["rows_per_second"], 0),
            _num(row.get("peak_rss_mib"), 0),
        )
    if checks:
        stages.add_row(
            f"asset checks ({checks['steps']} steps)",
            _num(checks["seconds"], 2),
            f"{checks['seconds'] / result['phases']['pipeline']['wall_seconds']:.1%}",
            "-",
            "-",
            "-",
        )

    phases = RichTable("phase", "wall s", "CPU s", "peak RSS MiB", "detail", title="phases (one child process each)")
    details = {
        "pipeline": lambda p: f"run {p['run_seconds']:.1f} s for {p['n_days']} days",
        "duckdb": lambda p: ", ".join(
            f"{t} {p[t]['rows']:,} rows {p[t]['seconds']:.1f} s" for t in ("turns", "telemetry", "events")
        ),
        "vader": lambda p: f"{p['texts']:,} texts, loop {p['seconds']:.1f} s ({p['per_second']:,.0f}/s)",
        "incremental": lambda p: (
            f"days 1-{p['history_days']} {p['history_run_seconds']:.1f} s; last day alone "
            f"{p['day_alone_run_seconds']:.1f} s, on top {p['day_on_top_run_seconds']:.1f} s"
        ),
    }
    for name, phase in result["phases"].items():
        if name == "dagster_path":
            for label in ("dagster", "cx_signals_run"):
                figures = phase[label]
                phases.add_row(
                    f"2 days: {label}",
                    _num(figures["wall_seconds"]),
                    _num(figures["cpu_seconds"]),
                    _num(figures["peak_rss_mib"], 0),
                    f"{phase['days'][0]} .. {phase['days'][1]}",
                )
            continue
        phases.add_row(
            name,
            _num(phase["wall_seconds"]),
            _num(phase["cpu_seconds"]),
            _num(phase["peak_rss_mib"], 0),
            details.get(name, lambda p: "")(phase),
        )

    ratios = RichTable("ratio", "value", title="ratios")
    for name, value in result["ratios"].items():
        ratios.add_row(name, f"{value:.2f}x")

    targets = RichTable("target", "figure", "limit", "status", "note", title="targets")
    for target in result["targets"]:
        figure = "-" if target["figure"] is None else f"{target['figure']:.3g} {target['unit']}"
        style = {"met": "green", "missed": "bold red"}.get(target["status"], "dim")
        targets.add_row(
            target["what"],
            figure,
            f"{target['limit']} {target['unit']}",
            f"[{style}]{target['status']}[/]",
            target["note"],
        )
    return [workload, stages, phases, ratios, targets]


if __name__ == "__main__":
    main(sys.argv[1:])
