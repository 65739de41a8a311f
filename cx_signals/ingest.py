"""Landing records to raw rows: validate against the contract, quarantine rejects, deduplicate, redact PII,
pseudonymise identifiers, and count so that read = loaded + quarantined + duplicates removed.

Every stored text that can carry PII is redacted: fields by their contract's `pii` class, file names
(`source_file`, the audit's inputs) and quarantine payloads and reasons.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from cx_signals.contracts import (
    Contract,
    Field,
    TimeBounds,
    Violation,
    input_contracts,
    validate_fields,
    validate_record,
)
from cx_signals.landing import MAX_LINE_BYTES, FileRead, LandingFile, LandingRecord, read_file
from cx_signals.privacy import pseudonym
from cx_signals.redact import redact, redact_json_value
from cx_signals.tables import PARTITION_COLUMN, key_column

FILE_LEVEL_RULE = "unreadable_file"
ID_PII_PREFIX = "pii-"
# Quarantine texts are redacted this far past their cut, so that a value straddling the cut (a card number) is found
# whole, and as much is dropped from the end of the redacted window, where a value the window itself cut can sit.
# Longer than any single value the detector finds (an e-mail address is at most about 730 characters).
_CUT_MARGIN_CHARS = 2_000
_MAX_REASON_CHARS = 2_000


def _redact_text(value: str) -> tuple[str, int]:
    """`value` PII-redacted (URL-encoded PII included, see cx_signals.redact), and the number of values replaced."""
    result = redact(value)
    return result.text, len(result.found)


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


def file_day(file: LandingFile, bounds: TimeBounds) -> date:
    """The partition of a file's undated records and file-level rejects: the day in its name or its modification
    time, unless that day is implausible (before the floor or in the future, e.g. a 1970 mtime), then the day of
    the run, so that one odd file cannot stretch the run over decades."""
    if bounds.earliest.date() <= file.home_day <= bounds.latest.date():
        return file.home_day
    return (bounds.now or bounds.latest).date()


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
    """Scalar columns treated by their PII class; returns the row and the number of values redacted."""
    row: dict[str, Any] = {}
    redactions = 0
    for f in fields:
        if f.type == "list":
            continue
        value = typed.get(f.name)
        if value is not None and f.pii == "free_text":
            value, n = _redact_text(value)
            redactions += n
        elif value is not None and f.pii == "json_text":
            parsed, n = redact_json_value(json.loads(value))
            value = json.dumps(parsed, sort_keys=True, ensure_ascii=False)
            redactions += n
        elif value is not None and f.pii == "id_text" and _redact_text(value)[1]:
            # unique and stable like the id, so that joins and deduplication downstream still hold
            value = ID_PII_PREFIX + pseudonym(value, key)
        row[f.name] = value
        if f.pii == "identifier":
            row[key_column(f)] = pseudonym(value, key)
    return row, redactions


def _in_time_order(
    fields: tuple[Field, ...], items: list[dict[str, Any]], start: datetime, end: datetime
) -> list[tuple[dict[str, Any], bool]]:
    """`items` sorted by time (equal times keep their order), with their timestamps clamped into [start, end],
    each with whether any was: a turn stamped before the conversation started would otherwise count as hours of
    first-response time in a ten-minute conversation."""
    ordered = [item for _, item in sorted(enumerate(items), key=lambda pair: (pair[1]["ts"], pair[0]))]
    clamped = []
    for item in ordered:
        times = {
            f.name: min(max(item[f.name], start), end)
            for f in fields
            if f.type == "timestamp" and item.get(f.name) is not None
        }
        clamped.append(({**item, **times}, any(item[name] != t for name, t in times.items())))
    return clamped


def _transcript_rows(contract: Contract, typed: dict[str, Any], base: dict[str, Any], key: bytes) -> dict[str, list]:
    conversation, _ = _scalar_row(contract.fields, typed, key)
    start, end = typed["started_at"], typed["ended_at"]
    parent = {PARTITION_COLUMN: base[PARTITION_COLUMN], "conversation_id": conversation["conversation_id"]}
    turn_fields, event_fields = contract.items["turn"], contract.items["conversation_event"]
    turns = []
    for index, (turn, clamped) in enumerate(_in_time_order(turn_fields, typed["turns"] or [], start, end)):
        row, redactions = _scalar_row(turn_fields, turn, key)
        turns.append({**parent, "turn_index": index, **row, "ts_clamped": clamped, "pii_redactions": redactions})
    events = []
    for index, (event, clamped) in enumerate(_in_time_order(event_fields, typed.get("events") or [], start, end)):
        row, _ = _scalar_row(event_fields, event, key)
        events.append({**parent, "event_index": index, **row, "ts_clamped": clamped})
    clamped_times = sum(row["ts_clamped"] for row in turns + events)
    return {
        "raw.conversations": [{**base, **conversation, "n_turns": len(turns), "clamped_times": clamped_times}],
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


def _redacted_prefix(text: str, limit: int) -> str:
    """At most `limit` characters of `text`, PII-redacted before the cut so that no value survives in part.

    A window `_CUT_MARGIN_CHARS` longer than `limit` is redacted and the redacted window's last `_CUT_MARGIN_CHARS`
    are dropped. When redaction shrank the window below half of `limit` (a payload of e-mail addresses), the window
    is redacted again at twice, then four times its size; past that a shorter text is kept.
    """
    window = limit + _CUT_MARGIN_CHARS
    for _ in range(3):
        redacted = _redact_text(text[:window])[0]
        if window >= len(text):
            return redacted[:limit]
        kept = len(redacted) - _CUT_MARGIN_CHARS
        if kept >= limit // 2:
            break
        window *= 2
    return redacted[: max(0, min(limit, kept))]


def _record_error(record: LandingRecord) -> Violation:
    """The violation of a record landing could not parse, under landing's rule (duplicate_key, line_too_long, ...)."""
    return Violation(record.rule, None, record.error or "")


def _reject_row(
    source: str,
    day: date,
    file: LandingFile,
    file_name: str,
    line: int | None,
    violations: list[Violation],
    payload: str,
    max_payload_chars: int,
) -> dict[str, Any]:
    """A quarantine row. Payload and reason are PII-redacted like every stored text, then cut: the payload to
    `max_payload_chars` (the whole record stays in the landing file the row names by path, hash and line)."""
    first = violations[0]
    return {
        PARTITION_COLUMN: day,
        "source": source,
        "source_file": file_name,
        "file_sha256": file.sha256,
        "source_line": line,
        "rule": first.rule,
        "field": first.field,
        "reason": _redacted_prefix("; ".join(str(v) for v in violations), _MAX_REASON_CHARS),
        # a JSON escape such as \\ud800 survives in a .json file's re-serialised payload; DuckDB needs valid UTF-8
        "payload": _redacted_prefix(payload.encode("utf-8", "backslashreplace").decode("utf-8"), max_payload_chars),
    }


def ingest_source(
    source: str,
    files: list[LandingFile],
    days: set[date],
    bounds: TimeBounds,
    key: bytes,
    reads: dict[str, FileRead] | None = None,
    *,
    max_text_chars: int,
    placeholder_ids: Collection[str],
    max_line_bytes: int = MAX_LINE_BYTES,
) -> IngestResult:
    """Validate, quarantine, deduplicate, redact and pseudonymise `source` records that fall on `days`.

    The first valid record with a given id (by file path, then line) wins, wherever its day: a later copy with the
    same content is a duplicate removed, one with different content is quarantined as 'conflicting_duplicate'.
    `reads` may hold files already read (by sha256) to avoid reading them twice. `max_text_chars` and
    `placeholder_ids` are config's `ingest.*` (see `validate_fields`); quarantine payloads are cut to
    `max_text_chars` too.
    """
    contract = input_contracts()[source]
    result = IngestResult(source)
    # identity -> (content key, where first seen); across all days, so that a run's result does not depend on
    # which other days it covers
    seen: dict[str, tuple[str, str]] = {}
    for file in files:
        read = (reads or {}).get(file.sha256) or read_file(
            file, known_fields=contract_field_names(contract), max_line_bytes=max_line_bytes
        )
        file_name = _redact_text(file.relative)[0]
        home_day = file_day(file, bounds)
        listed = {"file": file_name, "sha256": file.sha256, "rows": 0}
        for record in read.records:
            if record.error:
                typed, violations = {}, [_record_error(record)]
            else:
                typed, violations = validate_record(
                    contract, record.value, bounds, max_text_chars=max_text_chars, placeholder_ids=placeholder_ids
                )
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
            day = record_day(contract, typed, violations, home_day)
            if day not in days:
                continue
            counts = result.counts[day]
            counts.read += 1
            result.inputs[day].setdefault(file.relative, dict(listed))["rows"] += 1
            if violations:
                counts.quarantined += 1
                result.rejects.append(
                    _reject_row(source, day, file, file_name, record.line, violations, record.payload, max_text_chars)
                )
                continue
            if duplicate:
                counts.duplicates += 1
                continue
            base = {PARTITION_COLUMN: day, "source_file": file_name, "source_line": record.line}
            for table, rows in _raw_rows(contract, typed, base, key).items():
                result.rows[table].extend(rows)
            counts.loaded += 1
        if home_day in days and (read.file_error or not read.records):
            # an empty file is listed with rows 0 so that the audit shows it was read
            result.inputs[home_day].setdefault(file.relative, dict(listed))
            if read.file_error:
                violation = Violation(FILE_LEVEL_RULE, None, read.file_error)
                result.rejects.append(
                    _reject_row(source, home_day, file, file_name, None, [violation], "", max_text_chars)
                )
    return result


def contract_field_names(contract: Contract) -> frozenset[str]:
    """The top-level field names of an input contract: what a landing file's CSV header may name."""
    return frozenset(f.name for f in contract.fields)


def landing_days(files: list[LandingFile], config: dict[str, Any], now: datetime | None = None) -> set[date]:
    """The partitions `files` hold: each record's valid timestamp day, or its file's day (bad records, bad files)."""
    bounds = TimeBounds.from_config(config, now or datetime.now(UTC).replace(tzinfo=None))
    limits = {k: config["ingest"][k] for k in ("max_text_chars", "placeholder_ids")}
    days: set[date] = set()
    for file in files:
        contract = input_contracts()[file.source]
        partition_field = contract.field(contract.partition_by)
        read = read_file(
            file, known_fields=contract_field_names(contract), max_line_bytes=config["ingest"]["max_line_bytes"]
        )
        if read.file_error:
            days.add(file_day(file, bounds))
        for record in read.records:
            typed, violations = (
                ({}, [_record_error(record)])
                if record.error
                else validate_fields((partition_field,), record.value, bounds, **limits)
            )
            days.add(record_day(contract, typed, violations, file_day(file, bounds)))
    return days
