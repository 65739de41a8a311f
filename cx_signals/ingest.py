"""Landing records to raw rows: validate against the contract, quarantine rejects, deduplicate, redact PII,
pseudonymise identifiers, and count so that read = loaded + quarantined + duplicates removed."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from cx_signals.contracts import (
    MAX_TEXT_CHARS,
    Contract,
    Field,
    TimeBounds,
    Violation,
    input_contracts,
    validate_fields,
    validate_record,
)
from cx_signals.landing import FileRead, LandingFile, read_file
from cx_signals.privacy import pseudonym
from cx_signals.redact import redact
from cx_signals.tables import PARTITION_COLUMN, key_column

FILE_LEVEL_RULE = "unreadable_file"


@dataclass
class DayCounts:
    """Per source and day: records read, loaded, quarantined and removed as duplicates."""

    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    duplicates: int = 0

    @property
    def reconciles(self) -> bool:
        """True when read = loaded + quarantined + duplicates."""
        return self.read == self.loaded + self.quarantined + self.duplicates


@dataclass
class IngestResult:
    """Rows for the raw tables and quarantine, counts and inputs per day, for one source."""

    source: str
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    rejects: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[date, DayCounts] = field(default_factory=lambda: defaultdict(DayCounts))
    inputs: dict[date, dict[str, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))


def record_day(contract: Contract, typed: dict[str, Any], violations: list[Violation], home_day: date) -> date:
    """The partition a record belongs to: the day of its partition timestamp if that is valid, else the file's."""
    timestamp = typed.get(contract.partition_by) if contract.partition_by else None
    bad_timestamp = any(v.field == contract.partition_by for v in violations)
    if isinstance(timestamp, datetime) and not bad_timestamp:
        return timestamp.date()
    return home_day


def _content_key(typed: dict[str, Any]) -> str:
    canonical = json.dumps(typed, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def _scalar_row(fields: tuple[Field, ...], typed: dict[str, Any], key: bytes) -> tuple[dict[str, Any], int]:
    """Scalar columns with identifiers pseudonymised and free text redacted; returns the row and redaction count."""
    row: dict[str, Any] = {}
    redactions = 0
    for f in fields:
        if f.type == "list":
            continue
        value = typed.get(f.name)
        if f.pii == "free_text" and value is not None:
            result = redact(value)
            value = result.text
            redactions += len(result.found)
        row[f.name] = value
        if f.pii == "identifier":
            row[key_column(f)] = pseudonym(value, key)
    return row, redactions


def _sorted_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for _, item in sorted(enumerate(items), key=lambda pair: (pair[1]["ts"], pair[0]))]


def _transcript_rows(contract: Contract, typed: dict[str, Any], base: dict[str, Any], key: bytes) -> dict[str, list]:
    conversation, _ = _scalar_row(contract.fields, typed, key)
    turns, events = [], []
    for index, turn in enumerate(_sorted_items(typed["turns"] or [])):
        row, redactions = _scalar_row(contract.items["turn"], turn, key)
        turns.append(
            {
                PARTITION_COLUMN: base[PARTITION_COLUMN],
                "conversation_id": typed["conversation_id"],
                "turn_index": index,
                **row,
                "pii_redactions": redactions,
            }
        )
    for index, event in enumerate(_sorted_items(typed.get("events") or [])):
        row, _ = _scalar_row(contract.items["conversation_event"], event, key)
        events.append(
            {
                PARTITION_COLUMN: base[PARTITION_COLUMN],
                "conversation_id": typed["conversation_id"],
                "event_index": index,
                **row,
            }
        )
    return {
        "raw.conversations": [{**base, **conversation, "n_turns": len(turns)}],
        "raw.turns": turns,
        "raw.conversation_events": events,
    }


def _raw_rows(contract: Contract, typed: dict[str, Any], base: dict[str, Any], key: bytes) -> dict[str, list]:
    if contract.name == "transcripts":
        return _transcript_rows(contract, typed, base, key)
    row, _ = _scalar_row(contract.fields, typed, key)
    if contract.name == "telemetry":
        row = {"record_key": _content_key(typed), **row}
    return {f"raw.{contract.name}": [{**base, **row}]}


def _reject_row(
    source: str,
    day: date,
    file: LandingFile,
    line: int | None,
    violations: list[Violation],
    payload: str,
    max_payload_chars: int = MAX_TEXT_CHARS,
) -> dict[str, Any]:
    """A quarantine row. Payload and reason are PII-redacted like every stored text; a payload longer than
    `max_payload_chars` is cut (the whole record stays in the landing file the row names by path, hash and line)."""
    first = violations[0]
    return {
        PARTITION_COLUMN: day,
        "source": source,
        "source_file": file.relative,
        "file_sha256": file.sha256,
        "source_line": line,
        "rule": first.rule,
        "field": first.field,
        "reason": redact("; ".join(str(v) for v in violations)[:2000]).text,
        # a JSON escape such as \\ud800 survives in a .json file's re-serialised payload; DuckDB needs valid UTF-8
        "payload": redact(payload[:max_payload_chars].encode("utf-8", "backslashreplace").decode("utf-8")).text,
    }


def ingest_source(
    source: str,
    files: list[LandingFile],
    days: set[date],
    bounds: TimeBounds,
    key: bytes,
    reads: dict[str, FileRead] | None = None,
    max_text_chars: int = MAX_TEXT_CHARS,
) -> IngestResult:
    """Validate, quarantine, deduplicate, redact and pseudonymise `source` records that fall on `days`.

    The first valid record with a given id (by file path, then line) wins, wherever its day: a later copy with the
    same content is a duplicate removed, one with different content is quarantined as 'conflicting_duplicate'.
    `reads` may hold files already read (by sha256) to avoid reading them twice.
    """
    contract = input_contracts()[source]
    result = IngestResult(source)
    # identity -> (content key, where first seen); across all days, so that a run's result does not depend on
    # which other days it covers
    seen: dict[str, tuple[str, str]] = {}
    for file in files:
        read = (reads or {}).get(file.sha256) or read_file(file)
        for record in read.records:
            if record.error:
                typed, violations = {}, [Violation("unparseable_record", None, record.error)]
            else:
                typed, violations = validate_record(contract, record.value, bounds, max_text_chars)
            duplicate = False
            if not violations:
                content = _content_key(typed)
                identity = typed[contract.record_id] if contract.record_id else content
                first = seen.get(identity)
                if first is None:
                    seen[identity] = (content, f"{file.relative} line {record.line}")
                elif first[0] == content:
                    duplicate = True
                else:
                    violations = [
                        Violation(
                            "conflicting_duplicate",
                            contract.record_id,
                            f"{identity!r} was first read from {first[1]} with different content",
                        )
                    ]
            day = record_day(contract, typed, violations, file.home_day)
            if day not in days:
                continue
            counts = result.counts[day]
            counts.read += 1
            result.inputs[day].setdefault(file.relative, {"file": file.relative, "sha256": file.sha256, "rows": 0})
            result.inputs[day][file.relative]["rows"] += 1
            if violations:
                counts.quarantined += 1
                result.rejects.append(
                    _reject_row(source, day, file, record.line, violations, record.payload, max_text_chars)
                )
                continue
            if duplicate:
                counts.duplicates += 1
                continue
            base = {PARTITION_COLUMN: day, "source_file": file.relative, "source_line": record.line}
            for table, rows in _raw_rows(contract, typed, base, key).items():
                result.rows[table].extend(rows)
            counts.loaded += 1
        if read.file_error or not read.records:
            # an empty file is listed with rows 0 so that the audit shows it was read
            if file.home_day in days:
                result.inputs[file.home_day].setdefault(
                    file.relative, {"file": file.relative, "sha256": file.sha256, "rows": 0}
                )
            if read.file_error and file.home_day in days:
                result.rejects.append(
                    _reject_row(
                        source, file.home_day, file, None, [Violation(FILE_LEVEL_RULE, None, read.file_error)], ""
                    )
                )
    return result


def landing_days(files: list[LandingFile], config: dict[str, Any], now: datetime | None = None) -> set[date]:
    """The partitions `files` hold: each record's valid timestamp day, or its file's day (bad records, bad files)."""
    bounds = TimeBounds.around(
        now or datetime.now(UTC).replace(tzinfo=None),
        date.fromisoformat(config["partitions"]["start_date"]),
        config["ingest"]["max_future_skew_hours"],
    )
    days: set[date] = set()
    for file in files:
        partition_field = input_contracts()[file.source].field(input_contracts()[file.source].partition_by)
        read = read_file(file)
        if read.file_error:
            days.add(file.home_day)
        for record in read.records:
            typed, violations = (
                ({}, [Violation("unparseable_record", None, "")])
                if record.error
                else validate_fields((partition_field,), record.value, bounds)
            )
            days.add(record_day(input_contracts()[file.source], typed, violations, file.home_day))
    return days
