"""Landing records to raw rows, set-based in DuckDB: validate against the contract, quarantine rejects, deduplicate,
redact PII, pseudonymise identifiers, and count so that read = loaded + quarantined + duplicates removed.

Landing files are read by DuckDB where its readers see what Python's would (UTF-8 JSON Lines, Parquet), by
`cx_signals.landing` otherwise (CSV, JSON arrays, UTF-16, damaged files). Records are typed and checked in SQL
generated from the contract (`cx_signals.ingest_sql`); the few that SQL does not vouch for (the bad ones, and good
ones in an unusual form) are validated in Python, which names the rule each breaks. Deduplication, partitioning,
counting, pseudonyms (HMAC-SHA256 in SQL) and the raw rows are SQL; the redactor runs once per distinct text that may
hold PII. The result is held in temporary tables of the connection, written by `write_rows`.

Every stored text that can carry PII is redacted: fields by their contract's `pii` class, file names
(`source_file`, the audit's inputs) and quarantine payloads and reasons.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Collection, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from cx_signals.adapters import CONTRACT
from cx_signals.adapters.detect import detect_format, read_adapted
from cx_signals.contracts import (
    Contract,
    Field,
    TimeBounds,
    Violation,
    input_contracts,
    validate_fields,
    validate_record,
)
from cx_signals.db import arrow_table, map_distinct
from cx_signals.ingest_sql import may_hold_pii, parquet_select, timestamp_sql, typed_select
from cx_signals.landing import MAX_LINE_BYTES, FileRead, LandingFile, LandingRecord, json_record, read_file
from cx_signals.manifest import LandingManifest
from cx_signals.privacy import PSEUDONYM_HEX_CHARS, pseudonym
from cx_signals.redact import redact, redact_json_value
from cx_signals.tables import PARTITION_COLUMN, all_tables, key_column, qualified

if TYPE_CHECKING:
    from cx_signals.config import Parameters

ID_PII_PREFIX = "pii-"
# Quarantine texts are redacted this far past their cut, so that a value straddling the cut (a card number) is found
# whole, and as much is dropped from the end of the redacted window, where a value the window itself cut can sit.
# Longer than any single value the detector finds (an e-mail address is at most about 730 characters).
_CUT_MARGIN_CHARS = 2_000
_MAX_REASON_CHARS = 2_000
# Each source's raw tables (its contract's `raw_tables`), the first holding one row per record.
SOURCE_TABLES = {source: contract.raw_tables for source, contract in input_contracts().items()}
_ITEM_TABLES = {"turns": ("raw.turns", "turn_index"), "events": ("raw.conversation_events", "event_index")}
_ARROW = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("us"),
    "date": pa.date32(),
    "json": pa.string(),
}
_RECORDS_SCHEMA = pa.schema(
    [("file_index", pa.int32()), ("line", pa.int64()), ("payload", pa.string()), ("python", pa.bool_())]
)
_HMAC_BLOCK_BYTES = 64
# Records typed by one SQL statement (files are not split): a transcript with its turns is about 3 KB of JSON, and
# typing holds several forms of each at once.
_BATCH_RECORDS = 5_000
# Distinct texts from which redaction is spread over one process per core (starting them costs about a second).
_PARALLEL_REDACTION = 5_000


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


_QUARANTINE = "quarantine.rejects"


@dataclass
class IngestResult:
    """One source's ingest: the raw rows in temporary tables of `con` (`staged`: raw table -> its temporary table),
    the quarantine rows in another (`rejects_table`, the columns of quarantine.rejects), and counts and inputs per
    day. Rows stay in DuckDB, so that a history of rejects is not held in Python."""

    source: str
    con: duckdb.DuckDBPyConnection
    staged: dict[str, str] = field(default_factory=dict)
    counts: dict[date, DayCounts] = field(default_factory=lambda: defaultdict(DayCounts))
    inputs: dict[date, dict[str, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))
    # every file read, with the partitions its records fall on (for the landing manifest)
    file_days: list[tuple[LandingFile, set[date]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rejects_table = f"_rejects_{self.source}"
        empty = arrow_table(all_tables()[_QUARANTINE], [])  # noqa: F841 - in SQL
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {self.rejects_table} AS SELECT * FROM empty")

    def add_rejects(self, rows: list[dict[str, Any]]) -> None:
        """Append quarantine rows (dicts by column; a column left out is null)."""
        if rows:
            batch = arrow_table(all_tables()[_QUARANTINE], rows)  # noqa: F841 - in SQL
            self.con.execute(f"INSERT INTO {self.rejects_table} SELECT * FROM batch")

    @property
    def rejects(self) -> list[dict[str, Any]]:
        """The quarantine rows as dicts, in the order they were added (for inspection and tests: large results stay
        in DuckDB, see `reject_batches`)."""
        return [row for batch in self.reject_batches() for _, row in batch]

    @rejects.setter
    def rejects(self, rows: list[dict[str, Any]]) -> None:
        self.con.execute(f"DELETE FROM {self.rejects_table}")
        self.add_rejects(rows)

    def reject_batches(self, size: int = 10_000) -> Iterator[list[tuple[int, dict[str, Any]]]]:
        """The quarantine rows in the order they were added, `size` at a time, each with its rowid: a page at a time
        by rowid, so that the caller may update or delete the rows it was given between pages."""
        last = -1
        while True:
            cursor = self.con.execute(
                f"SELECT rowid, * FROM {self.rejects_table} WHERE rowid > ? ORDER BY rowid LIMIT ?", [last, size]
            )
            names = [d[0] for d in cursor.description][1:]
            page = cursor.fetchall()
            if not page:
                return
            yield [(row[0], dict(zip(names, row[1:], strict=True))) for row in page]
            last = page[-1][0]

    @property
    def rows(self) -> dict[str, list[dict[str, Any]]]:
        """The staged rows as dicts, by raw table (for inspection and tests: large results stay in DuckDB)."""
        return {
            table: self.con.execute(f"SELECT * FROM {temp}").to_arrow_table().to_pylist()
            for table, temp in self.staged.items()
        }

    def rows_written(self, table: str) -> dict[date, int]:
        """Staged rows of `table` per day."""
        return dict(
            self.con.execute(f"SELECT {PARTITION_COLUMN}, count(*) FROM {self.staged[table]} GROUP BY ALL").fetchall()
        )


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


@dataclass(frozen=True)
class _File:
    """A landing file as ingest uses it: its position in read order, redacted name and day for undated rejects."""

    index: int
    file: LandingFile
    name: str
    home_day: date


def _reject_row(
    source: str,
    day: date,
    file: _File,
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
        "source_file": file.name,
        "file_sha256": file.file.sha256,
        "source_line": line,
        "rule": first.rule,
        "field": first.field,
        "reason": _redacted_prefix("; ".join(str(v) for v in violations), _MAX_REASON_CHARS),
        # a JSON escape such as \\ud800 survives in a .json file's re-serialised payload; DuckDB needs valid UTF-8
        "payload": _redacted_prefix(payload.encode("utf-8", "backslashreplace").decode("utf-8"), max_payload_chars),
    }


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _storable(text: str) -> str:
    """`text` as valid UTF-8: a JSON escape such as \\ud800 leaves a lone surrogate in a parsed file's payload."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _arrow_type(f: Field, contract: Contract) -> pa.DataType:
    if f.type == "list":
        return pa.list_(pa.struct([(i.name, _arrow_type(i, contract)) for i in contract.items[f.item or ""]]))
    return _ARROW[f.type]


def _typed_schema(contract: Contract) -> pa.Schema:
    """The Arrow schema of typed records: file_index, line, plain, then every contract field."""
    fields = [(f.name, _arrow_type(f, contract)) for f in contract.fields]
    return pa.schema([("file_index", pa.int32()), ("line", pa.int64()), ("plain", pa.bool_()), *fields])


class _Staging:
    """Landing records of one source in temporary tables of a connection: `_records_<source>` (every record read,
    as text) and `_typed_<source>` (every valid record, typed), with the Python-found rejects beside them."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        source: str,
        bounds: TimeBounds,
        max_text_chars: int,
        placeholder_ids: Collection[str],
        max_line_bytes: int,
        landing: dict[str, Any] | None = None,
    ) -> None:
        self.con, self.source, self.bounds = con, source, bounds
        self.landing = landing
        self.contract = input_contracts()[source]
        self.limits = {"max_text_chars": max_text_chars, "placeholder_ids": placeholder_ids}
        self.max_line_bytes = max_line_bytes
        self.records, self.typed = f"_records_{source}", f"_typed_{source}"
        self.files: list[_File] = []
        # each file's read without its records (they are staged in DuckDB: keeping them would hold every record of
        # the run's history in Python), and how many records it held
        self.reads: dict[int, FileRead] = {}
        self.record_counts: dict[int, int] = {}
        # the quarantine rows of the records Python found invalid, with their file's index: in DuckDB, a batch at a
        # time, so that a history of rejects is not held in Python
        self.invalid = f"_invalid_{source}"
        self._invalid_rows: list[dict[str, Any]] = []
        self._python_valid: list[dict[str, Any]] = []
        self.record_days: set[date] = set()
        self.parquet_rows: dict[int, int] = {}  # rows DuckDB read from each deferred Parquet file
        self.native: dict[int, str] = {}  # Parquet files typed from their own columns: the query
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {self.records} "
            "(file_index INTEGER, line BIGINT, payload VARCHAR, python BOOLEAN)"
        )
        empty = arrow_table(all_tables()[_QUARANTINE], [])  # noqa: F841 - in SQL
        con.execute(f"CREATE OR REPLACE TEMP TABLE {self.invalid} AS SELECT *, NULL::INTEGER AS file_index FROM empty")

    def stage(self, files: list[LandingFile], reads: dict[str, FileRead] | None, typed: bool = True) -> None:
        """Read `files` (in order: the first copy of a record wins), type and check every record (with `typed`;
        else only read them, with the Python-read records validated: see `days`)."""
        known = contract_field_names(self.contract)
        if typed:
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {self.typed} AS {self._typed_sql('false')}", self._parameters()
            )
        sql_lines: list[tuple[int, int, str, bool]] = []
        for index, file in enumerate(files):
            entry = _File(index, file, _redact_text(file.relative)[0], file_day(file, self.bounds))
            self.files.append(entry)
            read = (reads or {}).get(file.sha256) or self._read(file, known)
            if read.deferred and not (self._native_parquet(entry) or self._load_parquet(entry)):
                read = read_file(file, known_fields=known, max_line_bytes=self.max_line_bytes)
            self.reads[index] = replace(read, records=[])
            self.record_counts[index] = len(read.records)
            python_records = []
            for record in read.records:
                if record.error is None and record.value is None:
                    sql_lines.append((index, record.line, record.payload, False))
                else:
                    python_records.append(record)
            self._insert_records([(index, r.line, _storable(r.payload), True) for r in python_records])
            if typed:
                self._validate_in_python(entry, python_records)
                self._insert_python_valid()
            else:
                self._day_in_python(entry, python_records)
            if len(sql_lines) > 20_000:
                self._insert_records(sql_lines)
                sql_lines = []
        self._insert_records(sql_lines)
        if typed:
            self._type_in_sql()
        self._flush_invalid()

    def _read(self, file: LandingFile, known: frozenset[str]) -> FileRead:
        """`file` read by its format: the contract's own shape by the fast path (JSON Lines and Parquet left to
        DuckDB), any other through its adapter (see `cx_signals.adapters.detect`)."""
        detection = detect_format(file, self.source, known, self.landing, self.max_line_bytes)
        if detection.format == CONTRACT:
            return read_file(file, known_fields=known, max_line_bytes=self.max_line_bytes, defer=True)
        return read_adapted(file, detection, self.max_line_bytes)

    def _insert_records(self, rows: list[tuple[int, int, str, bool]]) -> None:
        if not rows:
            return
        batch = pa.table([list(column) for column in zip(*rows, strict=True)], schema=_RECORDS_SCHEMA)  # noqa: F841
        self.con.execute(f"INSERT INTO {self.records} SELECT * FROM batch")

    def _batches(self, sizes_sql: str) -> list[tuple[int, int]]:
        """Runs of consecutive files holding about `_BATCH_RECORDS` records each (`sizes_sql` gives file_index and
        its count, in order), handled one run at a time so that memory follows a batch, not the history read."""
        sizes = self.con.execute(sizes_sql).fetchall()
        batches: list[tuple[int, int]] = []
        start, held = None, 0
        for index, n in sizes:
            start = index if start is None else start
            held += n
            if held >= _BATCH_RECORDS:
                batches.append((start, index))
                start, held = None, 0
        if start is not None:
            batches.append((start, sizes[-1][0]))
        return batches

    def _parameters(self, **more: Any) -> dict[str, Any]:
        return {"earliest": self.bounds.earliest, "latest": self.bounds.latest, **more}

    def _native_parquet(self, entry: _File) -> bool:
        """Type a Parquet file from its own columns, when their types allow (see `parquet_select`)."""
        path = str(entry.file.path)
        if not _is_utf8(path):
            return False
        try:
            described = self.con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()
            rows = self.con.execute("SELECT count(*) FROM read_parquet(?)", [path]).fetchone()[0]
        except duckdb.Error:
            return False
        placeholders = tuple(p.strip().lower() for p in self.limits["placeholder_ids"])
        sql = parquet_select(
            self.contract, {name: kind for name, kind, *_ in described}, self.limits["max_text_chars"], placeholders
        )
        if sql is None:
            return False
        self.native[entry.index] = sql
        self.parquet_rows[entry.index] = rows
        return True

    def _load_parquet(self, entry: _File) -> bool:
        """Load a Parquet file's rows as JSON text with DuckDB's reader; False if it cannot read the file."""
        if not str(entry.file.path).isprintable() or not _is_utf8(str(entry.file.path)):
            return False  # DuckDB opens paths by UTF-8 name
        try:
            self.con.execute(
                f"""INSERT INTO {self.records}
                SELECT ?, file_row_number + 1, to_json(struct_pack(*COLUMNS(* EXCLUDE (file_row_number)))), false
                FROM read_parquet(?, file_row_number = true)""",
                [entry.index, str(entry.file.path)],
            )
        except (duckdb.Error, UnicodeError):
            self.con.execute(f"DELETE FROM {self.records} WHERE file_index = ?", [entry.index])
            return False
        self.parquet_rows[entry.index] = self.con.execute(
            f"SELECT count(*) FROM {self.records} WHERE file_index = ?", [entry.index]
        ).fetchone()[0]
        return True

    def _rejected(self, record: LandingRecord) -> tuple[dict[str, Any], list[Violation]]:
        """A record rejected before validation, with its partition timestamp typed when an adapter gave it one (in
        `value`), so that its quarantine row falls on its day rather than the file's."""
        partition = (self.contract.field(self.contract.partition_by),) if self.contract.partition_by else ()
        typed = validate_fields(partition, record.value, self.bounds, **self.limits)[0] if record.value else {}
        return typed, [_record_error(record)]

    def _validate_in_python(self, entry: _File, records: list[LandingRecord]) -> None:
        for record in records:
            if record.error:
                typed, violations = self._rejected(record)
            else:
                typed, violations = validate_record(self.contract, record.value, self.bounds, **self.limits)
            if violations:
                day = record_day(self.contract, typed, violations, entry.home_day)
                limit = self.limits["max_text_chars"]
                reject = _reject_row(self.source, day, entry, record.line, violations, record.payload, limit)
                self._invalid_rows.append({**reject, "file_index": entry.index})
                if len(self._invalid_rows) >= _BATCH_RECORDS:
                    self._flush_invalid()
            else:
                self._python_valid.append({"file_index": entry.index, "line": record.line, "plain": True, **typed})

    def _flush_invalid(self) -> None:
        rows = self._invalid_rows
        if rows:
            schema = arrow_table(all_tables()[_QUARANTINE], []).schema.append(pa.field("file_index", pa.int32()))
            batch = pa.Table.from_pylist(rows, schema=schema)  # noqa: F841 - in SQL
            self.con.execute(f"INSERT INTO {self.invalid} SELECT * FROM batch")
        self._invalid_rows = []

    def _typed_sql(self, where: str) -> str:
        """The typed form of the SQL-read records that match `where` (see `typed_select`)."""
        placeholders = tuple(p.strip().lower() for p in self.limits["placeholder_ids"])
        records = f"(SELECT file_index, line, payload FROM {self.records} WHERE NOT python AND {where})"
        return typed_select(self.contract, records, self.limits["max_text_chars"], placeholders)

    def _type_in_sql(self) -> None:
        records = f"SELECT file_index, count(*) FROM {self.records} WHERE NOT python GROUP BY ALL ORDER BY ALL"
        for first, last in self._batches(records):
            where = f"file_index BETWEEN {first} AND {last}"
            self.con.execute(f"INSERT INTO {self.typed} {self._typed_sql(where)}", self._parameters())
        for index, native in self.native.items():
            parameters = self._parameters(path=str(self.files[index].file.path), file_index=index)
            self.con.execute(f"INSERT INTO {self.typed} BY NAME {native}", parameters)
        # the records SQL does not vouch for are validated again in Python, a batch of files at a time
        doubted = f"SELECT file_index, count(*) FROM {self.typed} WHERE NOT plain GROUP BY ALL ORDER BY ALL"
        for first, last in self._batches(doubted):
            self._validate_doubted(first, last)
        self.con.execute(f"DELETE FROM {self.typed} WHERE NOT plain")

    def _validate_doubted(self, first: int, last: int) -> None:
        doubted = self.con.execute(
            f"""SELECT t.file_index, t.line, r.payload FROM {self.typed} AS t
            LEFT JOIN {self.records} AS r USING (file_index, line)
            WHERE NOT t.plain AND t.file_index BETWEEN ? AND ? ORDER BY ALL""",
            [first, last],
        ).fetchall()
        by_file: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for index, line, payload in doubted:
            by_file[index].append((line, payload))
        for index, lines in by_file.items():
            entry = self.files[index]
            if self.reads[index].deferred:  # Parquet: Python reads the file itself, for its own values
                wanted = {line for line, _ in lines}
                read = read_file(entry.file, contract_field_names(self.contract), self.max_line_bytes)
                records = [r for r in read.records if r.line in wanted]
            else:
                records = [json_record(line, payload) for line, payload in lines]
            self._validate_in_python(entry, records)
            self._insert_python_valid()

    def _insert_python_valid(self) -> None:
        """Move the records Python found valid into the typed table (its SQL-doubted copies are deleted later: those
        are not plain, these are)."""
        rows = self._python_valid
        if rows:
            schema = _typed_schema(self.contract)
            batch = pa.Table.from_pylist(rows, schema=schema)  # noqa: F841 - in SQL
            json_fields = [f.name for f in self.contract.fields if f.type == "json"]
            replace = ", ".join(f'json("{name}") AS "{name}"' for name in json_fields)
            select = f"SELECT * REPLACE ({replace}) FROM batch" if replace else "SELECT * FROM batch"
            self.con.execute(f"INSERT INTO {self.typed} BY NAME {select}")
        self._python_valid = []

    def file_days(self) -> list[tuple[LandingFile, set[date]]]:
        """Each file read, with the partitions of its records (valid or not) and, if it could not be read, its day."""
        found: dict[int, set[date]] = defaultdict(set)
        partition = f'"{self.contract.partition_by}"'
        for index, day in self.con.execute(
            f"SELECT DISTINCT file_index, CAST({partition} AS DATE) FROM {self.typed}"
        ).fetchall():
            found[index].add(day)
        for index, day in self.con.execute(
            f"SELECT DISTINCT file_index, {PARTITION_COLUMN} FROM {self.invalid}"
        ).fetchall():
            found[index].add(day)
        for entry in self.files:
            if self.reads[entry.index].file_error or not found[entry.index]:
                found[entry.index].add(entry.home_day)  # where its reject or its empty listing goes
        return [(entry.file, found[entry.index]) for entry in self.files]

    def entry_named(self, name: str) -> _File:
        """The first file read whose stored (redacted) name is `name`."""
        return next(entry for entry in self.files if entry.name == name)

    def payload(self, index: int, line: int) -> str:
        """The text of record `line` of file `index` (read again by Python for natively read Parquet, which keeps
        none)."""
        kept = self.con.execute(
            f"SELECT payload FROM {self.records} WHERE file_index = ? AND line = ?", [index, line]
        ).fetchone()
        if kept is not None:
            return kept[0]
        entry = self.files[index]
        read = read_file(entry.file, contract_field_names(self.contract), self.max_line_bytes)
        return next((r.payload for r in read.records if r.line == line), "")

    def _day_in_python(self, entry: _File, records: list[LandingRecord]) -> None:
        partition = (self.contract.field(self.contract.partition_by),)
        for record in records:
            if record.error:
                typed, violations = self._rejected(record)
            else:
                typed, violations = validate_fields(partition, record.value, self.bounds, **self.limits)
            self.record_days.add(record_day(self.contract, typed, violations, entry.home_day))

    def days(self) -> set[date]:
        """Every partition the records read by `stage(..., typed=False)` fall on: the day of a record's partition
        timestamp where it is valid, else its file's day (as `record_day`); a file that cannot be read, its day."""
        timestamp = timestamp_sql(f"json_extract_string(payload, '$.\"{self.contract.partition_by}\"')")
        rows = self.con.execute(
            f"""SELECT CAST(ts AS DATE), file_index, line, payload FROM (
                SELECT file_index, line, payload, CASE WHEN json_valid(payload) THEN {timestamp} END AS ts
                FROM {self.records} WHERE NOT python)
            WHERE ts IS NULL OR ts NOT BETWEEN $earliest AND $latest
            UNION ALL SELECT DISTINCT CAST(ts AS DATE), NULL, NULL, NULL FROM (
                SELECT CASE WHEN json_valid(payload) THEN {timestamp} END AS ts FROM {self.records} WHERE NOT python)
            WHERE ts BETWEEN $earliest AND $latest""",
            self._parameters(),
        ).fetchall()
        days = {day for day, index, _, _ in rows if index is None}
        partition = f'"{self.contract.partition_by}"'
        for index, native in self.native.items():
            entry = self.files[index]
            found = self.con.execute(
                f"SELECT DISTINCT CAST({partition} AS DATE), NOT plain FROM ({native})",
                self._parameters(path=str(entry.file.path), file_index=index),
            ).fetchall()
            days |= {day for day, doubted in found if not doubted}
            if any(doubted for _, doubted in found):  # Python reads the file for the records SQL doubts
                read = read_file(entry.file, contract_field_names(self.contract), self.max_line_bytes)
                self._day_in_python(entry, read.records)
        for _, index, line, payload in rows:
            if index is not None:
                self._day_in_python(self.files[index], [json_record(line, payload)])
        days |= self.record_days
        days |= {entry.home_day for entry in self.files if self.reads[entry.index].file_error}
        return days


def _hmac_pads(key: bytes) -> dict[str, str]:
    """HMAC-SHA256's inner and outer padded keys as hex, for `_pseudonym_sql`."""
    if len(key) > _HMAC_BLOCK_BYTES:
        key = hashlib.sha256(key).digest()
    block = key.ljust(_HMAC_BLOCK_BYTES, b"\0")
    return {"ipad": bytes(b ^ 0x36 for b in block).hex(), "opad": bytes(b ^ 0x5C for b in block).hex()}


def _pseudonym_sql(expression: str) -> str:
    """SQL for `cx_signals.privacy.pseudonym` of a text: HMAC-SHA256 with the pads $ipad and $opad, cut."""
    inner = f"unhex(sha256(unhex($ipad) || encode({expression})))"
    return f"left(sha256(unhex($opad) || {inner}), {PSEUDONYM_HEX_CHARS})"


class _Redactions:
    """Lookup tables of the redacted form of every distinct text that may hold PII, by PII class."""

    def __init__(self, con: duckdb.DuckDBPyConnection, source: str, key: bytes) -> None:
        self.con, self.key = con, key
        self.tables = {cls: f"_redacted_{cls}_{source}" for cls in ("free_text", "json_text", "id_text")}
        self.pseudonyms = f"_pseudonyms_{source}"

    def build_pseudonyms(self, queries: list[str], parameters: dict[str, str]) -> None:
        """The keyed pseudonym of every distinct identifier the queries (one column `v`) give, computed once each."""
        union = " UNION ".join(f"({q})" for q in queries) or "SELECT NULL::VARCHAR AS v WHERE false"
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {self.pseudonyms} AS
            SELECT v, {_pseudonym_sql("v")} AS pseudonym FROM (SELECT DISTINCT v FROM ({union}) WHERE v IS NOT NULL)""",
            parameters,
        )

    def build(self, texts_by_class: dict[str, list[str]]) -> None:
        """Redact each class's candidate texts (queries giving one column `v`) into its lookup table, a batch of
        distinct texts at a time (`map_distinct`)."""
        for cls, table in self.tables.items():
            queries = texts_by_class.get(cls) or ["SELECT NULL::VARCHAR AS v WHERE false"]

            def redact_batch(texts: list[str], cls: str = cls) -> pa.Table:
                rows = [
                    (text, self._stored(cls, text, redacted, n), n)
                    for text, (redacted, n) in zip(texts, redact_all(cls, texts), strict=True)
                    if n  # unchanged texts need no entry
                ]
                return pa.table(
                    [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]],
                    schema=pa.schema([("text", pa.string()), ("redacted", pa.string()), ("n", pa.int64())]),
                )

            map_distinct(self.con, " UNION ".join(f"({q})" for q in queries), table, redact_batch)

    def _stored(self, cls: str, text: str, redacted: str, n: int) -> str:
        # an id carrying PII becomes a pseudonym, unique and stable like the id, so that joins downstream hold
        return ID_PII_PREFIX + (pseudonym(text, self.key) or "") if cls == "id_text" and n else redacted


def _redact_one(item: tuple[str, str]) -> tuple[str, int]:
    """The redacted form of one text of PII class `cls` (JSON text: every string in it) and the values replaced."""
    cls, text = item
    if cls == "json_text":
        value, n = redact_json_value(json.loads(text))
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")), n
    return _redact_text(text)


def redact_all(cls: str, texts: list[str]) -> list[tuple[str, int]]:
    """`_redact_one` of each of `texts`, in order; over one process per core when there are many (the redactor is
    pure Python, and ingest waits for it)."""
    items = [(cls, text) for text in texts]
    workers = os.cpu_count() or 1
    if len(items) < _PARALLEL_REDACTION or workers < 2:
        return [_redact_one(item) for item in items]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(_redact_one, items, chunksize=500))


def _scalar_columns(
    fields: tuple[Field, ...], source: str, redactions: _Redactions, joins: list[str], alias_prefix: str
) -> tuple[list[str], str]:
    """Select-list expressions storing `fields` of the relation `source` by their PII class, adding the lookups they
    need to `joins`; and the SQL sum of redactions made in the free and JSON texts."""
    columns, counts = [], []
    for f in fields:
        if f.type == "list":
            continue
        value = f'{source}."{f.name}"'
        if f.pii in ("free_text", "json_text", "id_text"):
            alias = f"{alias_prefix}_{f.name}"
            joins.append(f"LEFT JOIN {redactions.tables[f.pii]} AS {alias} ON {alias}.text = {value}")
            columns.append(f'coalesce({alias}.redacted, {value}) AS "{f.name}"')
            if f.pii != "id_text":
                counts.append(f"coalesce({alias}.n, 0)")
        else:
            columns.append(f'{value} AS "{f.name}"')
        if f.pii == "identifier":
            alias = f"{alias_prefix}_key_{f.name}"
            joins.append(f"LEFT JOIN {redactions.pseudonyms} AS {alias} ON {alias}.v = {value}")
            columns.append(f'{alias}.pseudonym AS "{key_column(f)}"')
    return columns, " + ".join(counts) or "0"


def _candidates(fields: tuple[Field, ...], relation: str) -> dict[str, list[str]]:
    """Per PII class, queries of the texts of `fields` in `relation` that may hold PII; under "identifier", of the
    identifiers to pseudonymise."""
    queries: dict[str, list[str]] = defaultdict(list)
    for f in fields:
        value = f'"{f.name}"'
        if f.pii in ("free_text", "json_text", "id_text"):
            queries[f.pii].append(f"SELECT {value} AS v FROM {relation} WHERE {may_hold_pii(value, f)}")
        elif f.pii == "identifier":
            queries["identifier"].append(f"SELECT {value} AS v FROM {relation}")
    return queries


class _Output:
    """The raw rows of the loaded records of the run's days, built in SQL from `_loaded_<source>`."""

    def __init__(self, staging: _Staging, key: bytes) -> None:
        self.staging, self.con, self.contract = staging, staging.con, staging.contract
        self.source = staging.source
        self.loaded = f"_loaded_{self.source}"
        self.redactions = _Redactions(self.con, self.source, key)
        self.parameters = _hmac_pads(key)

    def build(self) -> dict[str, str]:
        """Create the temporary tables of the raw rows; return raw table -> temporary table."""
        contract = self.contract
        queries = _candidates(contract.fields, self.loaded)
        for f in contract.fields:
            if f.type == "list":
                relation = f'(SELECT unnest("{f.name}", recursive := true) FROM {self.loaded})'
                for cls, more in _candidates(contract.items[f.item or ""], relation).items():
                    queries[cls].extend(more)
        self.redactions.build_pseudonyms(queries.pop("identifier", []), self.parameters)
        self.redactions.build(queries)
        files = f"_files_{self.source}"
        names = pa.table(  # noqa: F841 - in SQL
            {"file_index": [e.index for e in self.staging.files], "source_file": [e.name for e in self.staging.files]}
        )
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {files} AS SELECT * FROM names")
        staged: dict[str, str] = {}
        joins: list[str] = [f"JOIN {files} AS f USING (file_index)"]
        columns, _ = _scalar_columns(contract.fields, "v", self.redactions, joins, "r")
        lineage = ["f.source_file", "v.line AS source_line", f"v.day AS {PARTITION_COLUMN}"]
        if self.source == "transcripts":
            clamped = []
            for f in contract.fields:
                if f.type == "list":
                    table, counts = self._items(f)
                    staged[table] = f"_out_{table.replace('.', '_')}"
                    alias = f"clamped_{f.name}"
                    joins.append(f"LEFT JOIN {counts} AS {alias} USING (file_index, line)")
                    clamped.append(f"coalesce({alias}.n, 0)")
            extra = ['coalesce(len(v."turns"), 0) AS n_turns', f"({' + '.join(clamped)}) AS clamped_times"]
        elif self.source == "telemetry":
            extra = ["left(v.content_key, 32) AS record_key"]
        else:
            extra = []
        primary = SOURCE_TABLES[self.source][0]
        temp = f"_out_{primary.replace('.', '_')}"
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {temp} AS
            SELECT {", ".join([*columns, *extra, *lineage])} FROM {self.loaded} AS v {" ".join(joins)}
            ORDER BY v.file_index, v.line"""
        )
        return {primary: temp, **staged}

    def _items(self, f: Field) -> tuple[str, str]:
        """Build the rows of a list field (turns, conversation events) in time order, clamped into their
        conversation; return the raw table and a table of the clamped rows per record (file_index, line, n)."""
        table, index_column = _ITEM_TABLES[f.name]
        fields = self.contract.items[f.item or ""]
        temp, exploded = f"_out_{table.replace('.', '_')}", f"_items_{f.name}_{self.source}"
        items = []
        changed = []
        for i in fields:
            if i.type == "timestamp":
                value = f'i."{i.name}"'
                clamped = f"CASE WHEN {value} IS NOT NULL THEN least(greatest({value}, v.started_at), v.ended_at) END"
                items.append(f'{clamped} AS "{i.name}"')
                changed.append(f'coalesce(i."{i.name}" <> {clamped}, false)')
            else:
                items.append(f'i."{i.name}" AS "{i.name}"')
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {exploded} AS
            SELECT file_index, line, day, "conversation_id",
                   row_number() OVER (PARTITION BY file_index, line ORDER BY i."ts", position) - 1 AS {index_column},
                   {", ".join(items)}, ({" OR ".join(changed) or "false"}) AS ts_clamped
            FROM (SELECT v.*, unnest(range(len(v."{f.name}"))) AS position, unnest(v."{f.name}") AS i
                  FROM {self.loaded} AS v) AS v"""
        )
        joins = [f'LEFT JOIN {self.redactions.tables["id_text"]} AS rc ON rc.text = x."conversation_id"']
        columns, redactions = _scalar_columns(fields, "x", self.redactions, joins, "ri")
        select = [
            f"x.day AS {PARTITION_COLUMN}",
            'coalesce(rc.redacted, x."conversation_id") AS conversation_id',
            f"x.{index_column}",
            *columns,
            "x.ts_clamped",
        ]
        if table == "raw.turns":
            select.append(f"({redactions}) AS pii_redactions")
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {temp} AS SELECT {", ".join(select)} FROM {exploded} AS x {" ".join(joins)}
            ORDER BY x.file_index, x.line, x.{index_column}"""
        )
        counts = f"_clamped_{f.name}_{self.source}"
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {counts} AS
            SELECT file_index, line, count(*) FILTER (ts_clamped) AS n FROM {exploded} GROUP BY ALL"""
        )
        self.con.execute(f"DROP TABLE {exploded}")
        return table, counts


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
    con: duckdb.DuckDBPyConnection | None = None,
    landing: dict[str, Any] | None = None,
) -> IngestResult:
    """Validate, quarantine, deduplicate, redact and pseudonymise `source` records that fall on `days`.

    The first valid record with a given id (by file path, then line) wins, wherever its day: a later copy with the
    same content is a duplicate removed, one with different content is quarantined as 'conflicting_duplicate'.
    `reads` may hold files already read (by sha256) to avoid reading them twice. `max_text_chars` and
    `placeholder_ids` are config's `ingest.*` (see `validate_fields`); quarantine payloads are cut to
    `max_text_chars` too. The rows are staged in temporary tables of `con` (a new in-memory database if None).
    `landing` is config's `landing` section: how each file's format is chosen (`cx_signals.adapters`).
    """
    con = con or duckdb.connect()
    staging = _Staging(con, source, bounds, max_text_chars, placeholder_ids, max_line_bytes, landing)
    staging.stage(files, reads)
    result = IngestResult(source, con)
    contract = staging.contract
    _deduplicate(con, contract, days)
    _count(result, staging, days)
    result.staged = _Output(staging, key).build()
    result.file_days = staging.file_days()
    if contract.record_id and _exists(con, SOURCE_TABLES[source][0]):
        _reject_loaded_elsewhere(result, staging, days)
    # only the raw rows stay: the records read and their typed forms are the largest tables of a run
    for view in (f"_loaded_{source}", f"_valid_{source}"):
        con.execute(f"DROP VIEW {view}")
    for table in (f"_copies_{source}", staging.typed, staging.records, staging.invalid):
        con.execute(f"DROP TABLE {table}")
    return result


def _deduplicate(con: duckdb.DuckDBPyConnection, contract: Contract, days: set[date]) -> None:
    """The views `_valid_<source>` (valid records of `days`, each with its day and status: loaded, duplicate or
    conflicting; for a copy, the first copy's file and line) and `_loaded_<source>`.

    The first copy of an identity (by file, then line) is loaded; a later one with the same content is a duplicate,
    with other content conflicting. Content is compared only within the identities read more than once, so that the
    common case (every id once) costs one aggregate, not a sort of every record."""
    source = contract.name
    scalar = ", ".join(f'"{f.name}"' for f in contract.fields)
    content = f"md5(to_json(struct_pack({scalar})))"
    if contract.record_id:  # the id is the identity
        identity = f'"{contract.record_id}"'
        selected = f"{identity}, {content} AS content_key"
        repeated = f"""WHERE {identity} IN (
            SELECT {identity} FROM _typed_{source} GROUP BY ALL HAVING count(*) > 1)"""
    else:  # the content is the identity: every record's is needed (telemetry keeps it as its record_key)
        identity, selected, repeated = "content_key", f"{content} AS content_key", ""
    day = f'CAST(t."{contract.partition_by}" AS DATE)'
    listed = ", ".join(f"DATE '{d}'" for d in sorted(days)) or "NULL"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _copies_{source} AS
        SELECT file_index, line, content_key, first_file, first_line,
               CASE WHEN copy = 1 THEN 'loaded' WHEN content_key = first_content THEN 'duplicate'
                    ELSE 'conflicting' END AS status
        FROM (
            SELECT file_index, line, content_key, row_number() OVER w AS copy,
                   first_value(content_key) OVER w AS first_content,
                   first_value(file_index) OVER w AS first_file, first_value(line) OVER w AS first_line
            FROM (SELECT file_index, line, {selected} FROM _typed_{source} {repeated})
            WINDOW w AS (PARTITION BY {identity} ORDER BY file_index, line)
        )"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW _valid_{source} AS
        SELECT t.*, {day} AS day, coalesce(c.status, 'loaded') AS status, c.content_key, c.first_file, c.first_line
        FROM _typed_{source} AS t LEFT JOIN _copies_{source} AS c USING (file_index, line)
        WHERE {day} IN ({listed})"""
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW _loaded_{source} AS SELECT * FROM _valid_{source} WHERE status = 'loaded'"
    )


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    try:
        con.execute(f"SELECT 1 FROM {qualified(table)} LIMIT 0")
    except duckdb.CatalogException:
        return False
    return True


def _reject_loaded_elsewhere(result: IngestResult, staging: _Staging, days: set[date]) -> None:
    """Quarantine as 'conflicting_duplicate' the staged records whose id the raw table holds on another day: a run
    reads only its days' files (see `cx_signals.manifest`), so the first copy may sit in a file it did not read."""
    contract, con = staging.contract, result.con
    tables = SOURCE_TABLES[result.source]
    primary, column = result.staged[tables[0]], f'"{contract.record_id}"'
    clashes = con.execute(
        f"""SELECT o.partition_date, o.{column}, o.source_file, o.source_line, r.partition_date, r.source_file,
                   r.source_line
        FROM {primary} AS o JOIN {qualified(tables[0])} AS r ON r.{column} = o.{column}
        WHERE r.partition_date NOT IN (SELECT unnest($days::DATE[])) ORDER BY ALL""",
        {"days": sorted(days)},
    ).fetchall()
    if not clashes:
        return
    limit = staging.limits["max_text_chars"]
    rejects = []
    for day, identity, name, line, first_day, first_file, first_line in clashes:
        entry = staging.entry_named(name)
        detail = f"{identity!r} was first loaded on {first_day} from {first_file} line {first_line}, with other content"
        violation = Violation("conflicting_duplicate", contract.record_id, detail)
        payload = staging.payload(entry.index, line)
        rejects.append(_reject_row(result.source, day, entry, line, [violation], payload, limit))
        result.counts[day].loaded -= 1
        result.counts[day].quarantined += 1
    result.add_rejects(rejects)
    ids = sorted({identity for _, identity, *_ in clashes})
    con.execute(f"DELETE FROM {primary} WHERE {column} IN (SELECT unnest(?::VARCHAR[]))", [ids])
    for table in tables[1:]:  # turns and conversation events follow their conversation
        con.execute(f"DELETE FROM {result.staged[table]} WHERE conversation_id IN (SELECT unnest(?::VARCHAR[]))", [ids])


def _count(result: IngestResult, staging: _Staging, days: set[date]) -> None:
    """Counts, inputs and quarantine rows per day, from the staged records and the Python-found rejects."""
    source, con, contract = result.source, result.con, staging.contract
    limit = staging.limits["max_text_chars"]
    rows = con.execute(f"SELECT day, file_index, status, count(*) FROM _valid_{source} GROUP BY ALL").fetchall()
    per_file: dict[tuple[date, int], int] = defaultdict(int)
    for day, index, status, n in rows:
        counts = result.counts[day]
        counts.read += n
        per_file[(day, index)] += n
        if status == "loaded":
            counts.loaded += n
        elif status == "duplicate":
            counts.duplicates += n
        else:
            counts.quarantined += n
    conflicts = con.execute(
        f"""SELECT v.day, v.file_index, v.line, v."{contract.record_id or "content_key"}", v.first_file, v.first_line,
                   r.payload
        FROM _valid_{source} AS v LEFT JOIN _records_{source} AS r USING (file_index, line)
        WHERE v.status = 'conflicting' ORDER BY v.file_index, v.line"""
    ).fetchall()
    rejects = []
    for day, index, line, identity, first_file, first_line, payload in conflicts:
        payload = payload if payload is not None else staging.payload(index, line)
        where = f"{staging.files[first_file].file.relative} line {first_line}"
        violation = Violation(
            "conflicting_duplicate",
            contract.record_id,
            f"{identity!r} was first read from {where} with different content",
        )
        rejects.append(_reject_row(source, day, staging.files[index], line, [violation], payload, limit))
    result.add_rejects(rejects)
    on_days = f"FROM {staging.invalid} WHERE {PARTITION_COLUMN} IN (SELECT unnest(?::DATE[]))"
    for day, index, n in con.execute(
        f"SELECT {PARTITION_COLUMN}, file_index, count(*) {on_days} GROUP BY ALL", [sorted(days)]
    ).fetchall():
        result.counts[day].read += n
        result.counts[day].quarantined += n
        per_file[(day, index)] += n
    con.execute(
        f"INSERT INTO {result.rejects_table} SELECT * EXCLUDE (file_index) {on_days} ORDER BY file_index, source_line",
        [sorted(days)],
    )
    for (day, index), n in sorted(per_file.items()):
        entry = staging.files[index]
        listed = result.inputs[day].setdefault(entry.file.relative, _listing(entry, staging.reads[index]))
        listed["rows"] += n
    for entry in staging.files:
        read = staging.reads[entry.index]
        empty = staging.parquet_rows.get(entry.index) == 0 if read.deferred else not staging.record_counts[entry.index]
        if entry.home_day in days and (read.file_error or empty):
            # an empty file is listed with rows 0 so that the audit shows it was read
            result.inputs[entry.home_day].setdefault(entry.file.relative, _listing(entry, read))
            if read.file_error:
                violation = Violation(read.file_rule, None, read.file_error)
                result.add_rejects([_reject_row(source, entry.home_day, entry, None, [violation], "", limit)])


def _listing(entry: _File, read: FileRead) -> dict[str, Any]:
    """A file's entry in the audit's inputs: name, hash, rows and the format it was read as."""
    return {"file": entry.name, "sha256": entry.file.sha256, "rows": 0, "format": read.adapter, "read_as": read.read_as}


def write_rows(con: duckdb.DuckDBPyConnection, result: IngestResult, days: list[date]) -> dict[str, int]:
    """Replace the `days` partitions of the source's raw tables with the staged rows (call inside a transaction,
    on the connection the result was staged in); return rows written per table."""
    written = {}
    for table, temp in result.staged.items():
        columns = ", ".join(f'"{c}"' for c in all_tables()[table].column_names)
        con.execute(f"DELETE FROM {qualified(table)} WHERE {PARTITION_COLUMN} IN (SELECT unnest(?::DATE[]))", [days])
        con.execute(f"INSERT INTO {qualified(table)} ({columns}) SELECT {columns} FROM {temp}")
        written[table] = con.execute(f"SELECT count(*) FROM {temp}").fetchone()[0]
    return written


def write_rejects(con: duckdb.DuckDBPyConnection, result: IngestResult, days: list[date]) -> int:
    """Replace the source's quarantine rows of the `days` partitions with the result's (call inside a transaction,
    on the connection the result was staged in); return the rows written."""
    con.execute(
        f"DELETE FROM {qualified(_QUARANTINE)} WHERE source = ? AND {PARTITION_COLUMN} IN (SELECT unnest(?::DATE[]))",
        [result.source, days],
    )
    con.execute(f"INSERT INTO {qualified(_QUARANTINE)} BY NAME SELECT * FROM {result.rejects_table}")
    return con.execute(f"SELECT count(*) FROM {result.rejects_table}").fetchone()[0]


def contract_field_names(contract: Contract) -> frozenset[str]:
    """The top-level field names of an input contract: what a landing file's CSV header may name."""
    return frozenset(f.name for f in contract.fields)


def landing_days(
    files: list[LandingFile],
    config: Parameters,
    now: datetime | None = None,
    manifests: dict[str, LandingManifest] | None = None,
) -> set[date]:
    """The partitions `files` hold: each record's valid timestamp day, or its file's day (bad records, bad files).
    A file whose days a manifest (by source) knows is not read."""
    bounds = TimeBounds.from_config(config, now or datetime.now(UTC).replace(tzinfo=None))
    ingest = config["ingest"]
    days: set[date] = set()
    scratch = tempfile.mkdtemp(prefix="cx-landing-days-")
    con = duckdb.connect(config={"memory_limit": str(config.storage.memory_limit), "temp_directory": scratch})
    con.execute("SET enable_progress_bar = false")  # no bars drawn into the run's output
    for source in input_contracts():
        source_files = []
        for file in (f for f in files if f.source == source):
            known = manifests[source].days_of(file) if manifests and source in manifests else None
            if known is None:
                source_files.append(file)
            else:
                days |= known
        # One file at a time (its days do not depend on other files): memory follows a file, not the history.
        for file in source_files:
            staging = _Staging(
                con,
                source,
                bounds,
                ingest["max_text_chars"],
                ingest["placeholder_ids"],
                ingest["max_line_bytes"],
                config.get("landing"),
            )
            staging.stage([file], None, typed=False)
            days |= staging.days()
    con.close()
    shutil.rmtree(scratch, ignore_errors=True)
    return days
