"""Running the pipeline's job in this process for the days that hold data, as `cx-signals run` does.

Dagster's own console output is off by default: the full event log of every run, with the trace of any failure,
goes to a log file in the database's side folder, and the caller gets a short account of what failed.
"""

import logging
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dagster as dg

from cx_signals.config import Parameters
from cx_signals.locking import exclusive_lock
from cx_signals.paths import database_files
from dagster_defs.checks import RANGE_END, RANGE_START
from dagster_defs.common import TRAIN_TAG
from dagster_defs.definitions import build_definitions, first_partition_day
from dagster_defs.partitions import DATA_DAYS_TAG, day_spans, longest_window_days, plan_runs

# What to do about a root cause, by its exception class; the default covers everything else.
_HINTS = {
    "LockTimeout": "another run holds the database: wait for it to finish or stop it",
    "PermissionError": "make the database folder writable for this user",
    "IOException": "check that no other program has the working database open and that the disk has space",
    "OutOfMemoryException": "free memory or run fewer days at once",
    "DagsterAssetCheckFailedError": "a table broke its contract and was not published: the check's failures are in "
    "the full trace; fix the input or the SQL, then run the same command again",
}
# on_step(step key, the run's days as "first .. last" spans, steps started so far, steps in the job)
StepCallback = Callable[[str, str, int, int], None]
_DEFAULT_HINT = "fix the cause shown in the log file, then run the same command again (runs are idempotent)"


@dataclass(frozen=True)
class StepFailure:
    """One failed step: the asset (step), the days of the run, the root cause in one line and what to do."""

    step: str
    days: str
    root_cause: str
    hint: str

    def __str__(self) -> str:
        return f"{self.step} ({self.days}): {self.root_cause}\n  what to do: {self.hint}"


@dataclass(frozen=True)
class StepTiming:
    """One step of a run: its key, start and end (epoch seconds, from its STEP_START and STEP_SUCCESS/FAILURE
    events), whether it succeeded, whether it only evaluated asset checks, and the rows its assets report
    (`rows_written` summed over its assets; `records_read` the largest value, as the assets of one ingest step share
    one total)."""

    step: str
    started: float
    finished: float
    success: bool
    is_check: bool
    rows_written: int
    records_read: int


def step_timings(instance: dg.DagsterInstance, run_id: str) -> list[StepTiming]:
    """The steps of run `run_id` that started and finished, in the order they started."""
    started: dict[str, float] = {}
    finished: dict[str, tuple[float, bool]] = {}
    # a ranged run materialises every partition with the same metadata: count each asset once
    written: dict[str, dict[str, int]] = {}
    read: dict[str, int] = {}
    checked: set[str] = set()
    for entry in instance.all_logs(run_id):
        event, key = entry.dagster_event, entry.step_key
        if event is None or key is None:
            continue
        kind = event.event_type_value
        if kind == "STEP_START":
            started[key] = entry.timestamp
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            finished[key] = (entry.timestamp, kind == "STEP_SUCCESS")
        elif kind == "ASSET_CHECK_EVALUATION":
            checked.add(key)
        elif kind == "ASSET_MATERIALIZATION":
            materialization = event.step_materialization_data.materialization
            metadata = materialization.metadata
            rows = int(getattr(metadata.get("rows_written"), "value", 0) or 0)
            written.setdefault(key, {})[materialization.asset_key.to_user_string()] = rows
            read[key] = max(read.get(key, 0), int(getattr(metadata.get("records_read"), "value", 0) or 0))
    return [
        StepTiming(
            step=key,
            started=start,
            finished=finished[key][0],
            success=finished[key][1],
            is_check=key in checked and key not in written,
            rows_written=sum(written.get(key, {}).values()),
            records_read=read.get(key, 0),
        )
        for key, start in sorted(started.items(), key=lambda item: item[1])
        if key in finished
    ]


@dataclass
class RunOutcome:
    """What a pipeline run did: success, its Dagster run ids, the failed steps and checks, and the last log file."""

    success: bool
    run_ids: list[str]
    failures: list[StepFailure] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    log_file: Path | None = None
    steps: list[StepTiming] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        """The last Dagster run id."""
        return self.run_ids[-1]

    @property
    def error(self) -> str | None:
        """The failures as text, or None when the run succeeded."""
        return "\n".join(str(f) for f in self.failures) or (None if self.success else "the run failed")


def _root_cause(error: Any) -> tuple[str, str]:
    """(class name, first line of the message) of the innermost cause of a Dagster SerializableErrorInfo."""
    while error.cause is not None:
        error = error.cause
    lines = (error.message or "").strip().splitlines() or [""]
    # a message that ends its first line with a colon lists what failed on the next ones (a blocking check's names)
    first_line = " ".join(lines) if lines[0].endswith(":") else lines[0]
    first_line = re.sub(rf"^(?:[\w.]+\.)?{re.escape(error.cls_name or '')}:\s*", "", first_line)
    return error.cls_name or "Error", first_line[:300]


def _write_log(instance: dg.DagsterInstance, run_id: str, log_file: Path) -> None:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("w", encoding="utf-8") as out:
        for entry in instance.all_logs(run_id):
            stamp = datetime.fromtimestamp(entry.timestamp, tz=UTC).isoformat(timespec="milliseconds")
            out.write(f"{stamp} {logging.getLevelName(entry.level)} {entry.step_key or '-'} {entry.user_message}\n")
            event = entry.dagster_event
            if event is not None and event.event_type_value == "STEP_FAILURE" and event.step_failure_data.error:
                out.write(f"full trace of the failure of {entry.step_key}:\n")
                out.write(event.step_failure_data.error.to_string() + "\n")


def _execute_group(
    job: dg.JobDefinition,
    days: list[date],
    instance: dg.DagsterInstance,
    verbose: bool,
    train: bool,
    on_step: StepCallback | None = None,
) -> tuple[dg.ExecuteInProcessResult, list[StepFailure], list[str]]:
    tags = {RANGE_START: min(days).isoformat(), RANGE_END: max(days).isoformat(), DATA_DAYS_TAG: day_spans(days)}
    if train:
        tags[TRAIN_TAG] = "force"
    run_id = str(uuid.uuid4())
    if on_step is not None:
        span = day_spans(days).replace("..", " .. ")
        total = len(job.nodes)
        started: list[str] = []

        def listen(entry: Any) -> None:
            event = entry.dagster_event
            if event is not None and event.event_type_value == "STEP_START" and entry.step_key:
                started.append(entry.step_key)
                on_step(entry.step_key, span, len(started), max(total, len(started)))

        instance.add_event_listener(run_id, listen)
    result = job.execute_in_process(
        instance=instance,
        run_id=run_id,
        tags=tags,
        run_config={"loggers": {"console": {"config": {"log_level": "DEBUG" if verbose else "CRITICAL"}}}},
        raise_on_error=False,
    )
    span = f"{min(days)} .. {max(days)}" if len(days) > 1 else str(days[0])
    failures = []
    for event in result.all_events:
        if event.event_type_value != "STEP_FAILURE":
            continue
        error = event.step_failure_data.error
        cls_name, cause = _root_cause(error) if error else ("Error", "failed")
        failures.append(
            StepFailure(event.step_key or "?", span, f"{cls_name}: {cause}", _HINTS.get(cls_name, _DEFAULT_HINT))
        )
    failed_checks = [
        f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        for evaluation in (
            e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
        )
        if not evaluation.passed
    ]
    return result, failures, failed_checks


def run_pipeline(
    landing: Path,
    database: Path,
    days: list[date],
    config: Parameters,
    verbose: bool = False,
    train: bool = False,
    on_step: StepCallback | None = None,
    job_name: str | None = None,
) -> RunOutcome:
    """Materialise every asset for `days` (the days holding data), then check and publish: the `cx_pipeline` job
    (`cx_train` when `train`) of the same definitions the schedule and sensor run, in this process.

    Days far apart (see `plan_runs`) get one Dagster run each, oldest first; a failed run stops the rest. Uses
    the Dagster instance of $DAGSTER_HOME when set (so runs show in the UI), else an ephemeral one. `train` runs
    only the model assets and forces every model to retrain on the days up to the last of `days`; otherwise a
    run trains only a missing or marked model. `on_step(step, days, n, total)` is called as each step starts.
    `job_name` runs another job of the definitions instead (`cx_rescore`).
    """
    files = database_files(database)
    definitions = build_definitions(config, first_partition_day(config, set(days)), str(database), str(landing))
    job = definitions.resolve_job_def(job_name or ("cx_train" if train else "cx_pipeline"))
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    outcome = RunOutcome(success=True, run_ids=[])
    with exclusive_lock(files.lock("run"), config.locks.timeout_seconds):
        for group in plan_runs(days, longest_window_days(config)):
            result, failures, failed_checks = _execute_group(job, group, instance, verbose, train, on_step)
            outcome.run_ids.append(result.run_id)
            outcome.log_file = files.logs / f"run-{result.run_id}.log"
            _write_log(instance, result.run_id, outcome.log_file)
            outcome.steps.extend(step_timings(instance, result.run_id))
            outcome.failures.extend(failures)
            outcome.failed_checks.extend(failed_checks)
            if not result.success:
                outcome.success = False
                break
    return outcome
