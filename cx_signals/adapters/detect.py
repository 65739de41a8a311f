"""Recognising a landing file's format by its content, and reading a file through its adapter.

A file is peeked at (its first few records, read without the contract's CSV-header rules); each adapter of its source
is asked whether the first parsed record is its shape (for a delimited file: a row keyed by the header, then, for the
adapters that read headerless files, the first row as a list of cells); a record naming a contract field is the
contract's own shape, read by the fast path (`cx_signals.ingest`). Anything else is an unknown format, quarantined as
a file with the formats tried. `landing.<source>.format` in config skips the recognition.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cx_signals.adapters import AUTO, CONTRACT, registry
from cx_signals.adapters.base import Adapter
from cx_signals.landing import MAX_LINE_BYTES, FileRead, LandingFile, LandingRecord, read_file

UNKNOWN_FORMAT_RULE = "unknown_format"
_PEEK_RECORDS = 5
_KEYS_SHOWN = 12


@dataclass(frozen=True)
class Detection:
    """How a file is to be read: by its contract (`adapter` None, `error` None), by `adapter` (with a header, or
    without one when `headerless`), or not at all (`error`: the file's shape and the formats tried)."""

    format: str
    adapter: Adapter | None = None
    headerless: bool = False
    error: str | None = None


def _delimited(peek: FileRead) -> bool:
    return peek.read_as.startswith("csv")


def _keys(value: Any) -> str:
    keys = list(value)[:_KEYS_SHOWN]
    more = ", ..." if len(value) > _KEYS_SHOWN else ""
    return ", ".join(repr(str(k)[:40]) for k in keys) + more


def _names_contract_field(value: Any, fields: frozenset[str], delimited: bool) -> bool:
    if not isinstance(value, dict):
        return True  # not an object: the contract's reader rejects each record with its reason
    if delimited:  # a CSV header matches the contract's fields ignoring case
        lower = {f.lower() for f in fields}
        return any(str(k).strip().lower() in lower for k in value)
    return not fields.isdisjoint(value)


def detect_format(
    file: LandingFile,
    source: str,
    fields: frozenset[str],
    landing: dict[str, Any] | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Detection:
    """The format `file` (of `source`, whose contract has `fields`) is read as: `landing.<source>.format` when the
    config forces one, else recognised from its first records. A file that cannot be read, is empty or holds no
    parsed record goes to the contract's reader, which quarantines it with its reason."""
    forced = ((landing or {}).get(source) or {}).get("format", AUTO)
    if forced == CONTRACT or file.path_error:
        return Detection(CONTRACT)
    adapters = registry(source, landing)
    if forced != AUTO:
        adapters = tuple(a for a in adapters if a.name == forced)
    peek = read_file(file, None, max_line_bytes, header=False, max_records=_PEEK_RECORDS)
    parsed = [r.value for r in peek.records if r.error is None]
    if peek.file_error or not parsed:
        return Detection(adapters[0].name, adapters[0]) if forced != AUTO else Detection(CONTRACT)
    delimited = _delimited(peek)
    if delimited and len(parsed[0]) == 1 and forced == AUTO:
        return Detection(CONTRACT)  # one column: another delimiter, which the contract's reader explains
    first: Any = parsed[0]
    if delimited:  # rows came back as lists: the first is the header, or a headerless file's first row
        header = [cell.strip() for cell in parsed[0]]
        first = dict(zip(header, parsed[1] if len(parsed) > 1 else [""] * len(header), strict=False))
    for adapter in adapters:
        if adapter.detect(first):
            return Detection(adapter.name, adapter)
    if delimited:
        for adapter in adapters:
            if getattr(adapter, "headerless", False) and adapter.detect(parsed[0]):
                return Detection(adapter.name, adapter, headerless=True)
    if forced != AUTO:
        return Detection(forced, adapters[0], headerless=delimited and getattr(adapters[0], "headerless", False))
    if _names_contract_field(first, fields, delimited):
        return Detection(CONTRACT)
    tried = ", ".join([f"{CONTRACT} ({source})", *(a.name for a in adapters)])
    if delimited:
        shape = (
            f"no header row, or an export of unknown format: the first row ({','.join(parsed[0])[:200]!r}, "
            f"{len(parsed[0])} columns) names none of the fields ({', '.join(sorted(fields))})"
        )
    else:
        shape = f"a record with keys {_keys(first)}, none of the contract's fields"
    return Detection(
        AUTO,
        error=(
            f"{shape}; formats tried: {tried}. Force one with landing.{source}.format in config, or describe the "
            "export with a mapping (landing.mappings, docs/adapters.md)"
        ),
    )


def _line_record(line: int, value: dict[str, Any]) -> LandingRecord:
    """A converted contract record, as JSON text for the SQL typing (value None: see `cx_signals.ingest`)."""
    return LandingRecord(line, json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":")))


def read_adapted(file: LandingFile, detection: Detection, max_line_bytes: int = MAX_LINE_BYTES) -> FileRead:
    """`file` read raw and converted by `detection`'s adapter (or, for an unknown format, rejected as a file).

    Records that could not be parsed skip the adapter and keep their error; converted records come back as JSON
    text for the contract's validation, unmappable ones with their error and rule. Lines stay those of the source
    records; an adapter that gives two records the same line (several records from one source record) has its
    records numbered in order instead, so that each (file, line) names one record."""
    if detection.error is not None:
        return FileRead(file, file_error=detection.error, read_as="unknown", file_rule=UNKNOWN_FORMAT_RULE)
    adapter = detection.adapter
    if adapter is None:
        raise ValueError("a contract-shaped file is read by cx_signals.ingest, not by an adapter")
    raw = read_file(file, None, max_line_bytes, header=not detection.headerless)
    read = FileRead(
        file,
        file_error=raw.file_error,
        read_as=f"{raw.read_as}, no header" if detection.headerless else raw.read_as,
        adapter=adapter.name,
    )
    records = [r for r in raw.records if r.error is not None]
    for record in adapter.convert(r for r in raw.records if r.error is None):
        records.append(record if record.error is not None else _line_record(record.line, record.value))
    records.sort(key=lambda r: r.line)
    if len({r.line for r in records}) < len(records):
        records = [LandingRecord(n, r.payload, r.value, r.error, r.rule) for n, r in enumerate(records, start=1)]
    read.records = records
    return read
