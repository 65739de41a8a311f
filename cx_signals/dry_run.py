"""A dry run of ingest: what each landing file would load and what would be quarantined, with nothing written.

The files go through the same recognition, reading, validation and deduplication as a run (`cx_signals.ingest`), in
an in-memory DuckDB database whose spill folder is a temporary directory removed afterwards; pseudonyms use a random
key that is never stored. No database, side folder, manifest or key file is created.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from cx_signals.config import Parameters
from cx_signals.contracts import TimeBounds, input_contracts
from cx_signals.ingest import SOURCE_TABLES, ingest_source, landing_days
from cx_signals.landing import IgnoredPath, scan

TOP_REASONS = 3
_KEY_BYTES = 32


@dataclass
class FileVerdict:
    """One landing file in a dry run: the format it would be read as (`contract` or an adapter's name), how its bytes
    are read, the records read from it and how many would load, be quarantined or be removed as duplicates, and its
    most frequent reject reasons as (rule, field, count, first line, reason)."""

    source: str
    file: str
    format: str
    read_as: str
    records: int = 0
    loaded: int = 0
    quarantined: int = 0
    file_error: str | None = None
    reasons: list[tuple[str, str | None, int, int | None, str]] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        """Records removed as exact duplicates of an earlier record."""
        return self.records - self.loaded - self.quarantined


@dataclass
class DryRun:
    """The verdict on every landing file, in scan order, and the paths the scan ignored."""

    files: list[FileVerdict]
    ignored: list[IgnoredPath]

    def share_quarantined(self, source: str) -> float:
        """The share (0..1) of `source`'s records (a file rejected whole counting as one) that would be quarantined."""
        files = [f for f in self.files if f.source == source]
        rejected = sum(f.quarantined + (1 if f.file_error else 0) for f in files)
        read = sum(f.records + (1 if f.file_error else 0) for f in files)
        return rejected / read if read else 0.0


def dry_run(landing: Path, config: Parameters, progress: Callable[[str], None] | None = None) -> DryRun:
    """Read every file under `landing` as a run with `config` would and return what would load and be quarantined.
    Raises `cx_signals.landing.LandingPathError` when `landing` is not a folder."""
    found = scan(landing)
    ingest = config["ingest"]
    now = datetime.now(UTC).replace(tzinfo=None)
    bounds = TimeBounds.from_config(config, now)
    key = os.urandom(_KEY_BYTES)
    verdicts: list[FileVerdict] = []
    scratch = tempfile.mkdtemp(prefix="cx-dry-run-")
    try:
        for source in input_contracts():
            files = [f for f in found.files if f.source == source]
            if not files:
                continue
            if progress:
                progress(f"reading {source} ({len(files)} files)")
            days = landing_days(files, config, now=now)
            memory = str(config["storage"]["memory_limit"])
            con = duckdb.connect(config={"memory_limit": memory, "temp_directory": scratch})
            try:
                result = ingest_source(
                    source,
                    files,
                    days,
                    bounds,
                    key,
                    max_text_chars=ingest["max_text_chars"],
                    placeholder_ids=ingest["placeholder_ids"],
                    max_line_bytes=ingest["max_line_bytes"],
                    con=con,
                    landing=config.get("landing"),
                )
                verdicts.extend(_verdicts(source, files, result))
            finally:
                con.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return DryRun(verdicts, found.ignored)


def _verdicts(source: str, files: list, result: Any) -> list[FileVerdict]:
    """One verdict per file of `source`, from an ingest result (inputs, rejects and staged rows are keyed by the
    redacted file name)."""
    listed: dict[str, dict[str, Any]] = {}
    for inputs in result.inputs.values():
        for relative, entry in inputs.items():
            total = listed.setdefault(relative, {**entry, "rows": 0})
            total["rows"] += entry["rows"]
    primary = result.staged[SOURCE_TABLES[source][0]]
    loaded = dict(result.con.execute(f"SELECT source_file, count(*) FROM {primary} GROUP BY ALL").fetchall())
    # per file: reject counts by (rule, field), the first reject of each and the first file error, read a page of
    # quarantine rows at a time
    counts: dict[str, Counter] = {}
    first: dict[str, dict[tuple[str, str | None], dict[str, Any]]] = {}
    file_errors: dict[str, str] = {}
    for page in result.reject_batches():
        for _, reject in page:
            name = reject["source_file"]
            if reject["source_line"] is None:
                file_errors.setdefault(name, reject["reason"])
                continue
            rule = (reject["rule"], reject["field"])
            counts.setdefault(name, Counter())[rule] += 1
            first.setdefault(name, {}).setdefault(rule, reject)
    verdicts = []
    for file in files:
        entry = listed.get(file.relative, {"file": file.relative, "rows": 0, "format": None, "read_as": "not read"})
        name = entry["file"]
        mine, examples = counts.get(name, Counter()), first.get(name, {})
        verdicts.append(
            FileVerdict(
                source=source,
                file=file.relative,
                format=entry.get("format") or "contract",
                read_as=entry.get("read_as") or "",
                records=entry["rows"],
                loaded=loaded.get(name, 0),
                quarantined=sum(mine.values()),
                file_error=file_errors.get(name),
                reasons=[
                    (
                        rule,
                        field_name,
                        n,
                        examples[(rule, field_name)]["source_line"],
                        examples[(rule, field_name)]["reason"],
                    )
                    for (rule, field_name), n in mine.most_common(TOP_REASONS)
                ],
            )
        )
    return verdicts
