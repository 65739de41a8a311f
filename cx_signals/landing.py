"""Finding and reading landing files: JSON Lines, JSON arrays, CSV and Parquet, gzip allowed.

Reading never raises for bad content: a record that cannot be parsed comes back as a `LandingRecord` with
`error` set, and a file that cannot be read at all comes back with `file_error` set, so that both reach
quarantine with their reason.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import itertools
import json
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

SOURCES = ("transcripts", "telemetry", "events")
_TEXT_SUFFIXES = {".jsonl", ".ndjson", ".json", ".csv"}
_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_CSV_DELIMITERS = ",;\t|"
# The default limit (128 KiB per cell) would make a long transcript's turns cell a file error; lengths are the
# contract's business (max_text_chars).
csv.field_size_limit(2**31 - 1)


class LandingPathError(ValueError):
    """A path that escapes the landing root or is not a landing folder."""


@dataclass(frozen=True)
class LandingFile:
    """A file found under the landing root."""

    source: str
    path: Path
    relative: str
    sha256: str
    size_bytes: int
    home_day: date

    @property
    def format(self) -> str:
        """The file format: jsonl, json, csv or parquet (gzip is transparent)."""
        suffixes = [s.lower() for s in self.path.suffixes]
        if suffixes and suffixes[-1] == ".gz":
            suffixes = suffixes[:-1]
        last = suffixes[-1] if suffixes else ""
        return {".ndjson": "jsonl", ".jsonl": "jsonl", ".json": "json", ".csv": "csv", ".parquet": "parquet"}.get(
            last, "unknown"
        )


@dataclass
class LandingRecord:
    """One record of a landing file: its 1-based line or row, the raw text, and the parsed value or error."""

    line: int
    payload: str
    value: Any = None
    error: str | None = None


@dataclass
class FileRead:
    """Everything read from one file: its records and, if reading stopped early, why."""

    file: LandingFile
    records: list[LandingRecord] = field(default_factory=list)
    file_error: str | None = None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _home_day(path: Path) -> date:
    """The partition a file's undated records and file-level errors belong to: a date in its name, else its mtime
    (today if even that cannot be read)."""
    match = _DATE_IN_NAME.search(path.name)
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).date()
    except OSError:
        return datetime.now(UTC).date()


def confine(root: Path, candidate: Path) -> Path:
    """Resolve `candidate` and check it stays inside `root` (symlinks included); raise LandingPathError if not."""
    resolved_root = root.resolve()
    resolved = candidate.resolve()
    if resolved != resolved_root and resolved_root not in resolved.parents:
        raise LandingPathError(f"{candidate} resolves to {resolved}, outside the landing root {resolved_root}")
    return resolved


def discover(root: Path) -> list[LandingFile]:
    """List every landing file under `root/<source>/` for the known sources, in a stable order.

    Files outside the root (through symlinks) are refused; hidden files and `_truth/` are ignored. Folders are
    walked whatever their name (Spark writes `events.parquet/part-0.parquet`). A file that cannot be read here
    is still listed, with a placeholder hash, so that reading it fails and quarantines it as a file.
    """
    root = Path(root)
    if not root.is_dir():
        raise LandingPathError(f"landing folder {root} does not exist or is not a folder")
    found: list[LandingFile] = []
    for source in SOURCES:
        folder = root / source
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.name.startswith((".", "_")) or not path.is_file():
                continue
            resolved = confine(root, path)
            relative = path.relative_to(root).as_posix()
            try:
                sha256, size_bytes = _sha256(resolved), resolved.stat().st_size
            except OSError:
                sha256, size_bytes = f"unreadable:{relative}", 0
            found.append(
                LandingFile(
                    source=source,
                    path=resolved,
                    relative=relative,
                    sha256=sha256,
                    size_bytes=size_bytes,
                    home_day=_home_day(path),
                )
            )
    return found


def _open_binary(path: Path) -> io.BufferedIOBase:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _decode(raw: bytes) -> tuple[str, str | None]:
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return raw.decode("utf-8", errors="backslashreplace"), f"invalid UTF-8 at byte {exc.start}"


def _read_jsonl(read: FileRead, handle: io.BufferedIOBase) -> None:
    for number, raw in enumerate(handle, start=1):
        text, error = _decode(raw.rstrip(b"\r\n"))
        if not text.strip():
            continue
        record = LandingRecord(line=number, payload=text)
        if error:
            record.error = error
        else:
            try:
                record.value = json.loads(text)
            except json.JSONDecodeError as exc:
                record.error = f"invalid JSON: {exc.msg} at column {exc.colno}"
            except (ValueError, RecursionError) as exc:  # a 5000-digit number, nesting deeper than Python's stack
                record.error = f"invalid JSON: {type(exc).__name__}: {exc}"[:500]
        read.records.append(record)


def _read_json_array(read: FileRead, handle: io.BufferedIOBase) -> None:
    text, error = _decode(handle.read())
    if error:
        read.file_error = error
        return
    if not text.strip():
        return
    try:
        values = json.loads(text)
    except json.JSONDecodeError as exc:
        read.file_error = f"invalid JSON: {exc.msg} at line {exc.lineno}"
        return
    except (ValueError, RecursionError) as exc:
        read.file_error = f"invalid JSON: {type(exc).__name__}: {exc}"[:500]
        return
    if isinstance(values, dict):
        values = [values]
    if not isinstance(values, list):
        read.file_error = "a .json file must hold an object or an array of objects"
        return
    for number, value in enumerate(values, start=1):
        read.records.append(LandingRecord(line=number, payload=json.dumps(value, ensure_ascii=False), value=value))


def _invalid_utf8(cells: list[str]) -> str | None:
    """Where the first undecodable byte is in cells decoded with surrogateescape, or None if they are valid UTF-8."""
    for index, cell in enumerate(cells):
        try:
            cell.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"invalid UTF-8 in cell {index + 1} at character {exc.start}"
    return None


def _read_csv(read: FileRead, handle: io.BufferedIOBase) -> None:
    # Streamed, so that rows before a truncated gzip's damage are kept, and decoded with surrogateescape, so that
    # a row with invalid UTF-8 is rejected on its own instead of the whole file.
    stream = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="surrogateescape", newline="")
    first = ""
    while not first.strip():
        first = stream.readline()
        if not first:
            return
    try:
        delimiter = csv.Sniffer().sniff(first.rstrip("\r\n"), delimiters=_CSV_DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(itertools.chain([first], stream), delimiter=delimiter)
    header = next(reader)
    if _invalid_utf8(header):
        read.file_error = f"header: {_invalid_utf8(header)}"
        return
    if len(header) == 1:
        read.file_error = f"header has one column ({header[0][:80]!r}): wrong delimiter? use comma, semicolon, tab or |"
        return
    for number, row in enumerate(reader, start=2):
        if not row:
            continue
        payload = delimiter.join(row).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        error = _invalid_utf8(row)
        if error is None and len(row) != len(header):
            error = f"row has {len(row)} cells, header has {len(header)}"
        if error:
            read.records.append(LandingRecord(number, payload, error=error))
            continue
        read.records.append(LandingRecord(number, payload, value=dict(zip(header, row, strict=True))))


def _read_parquet(read: FileRead) -> None:
    if read.file.path.stat().st_size == 0:  # empty like an empty text file, not a broken Parquet file
        return
    table = pq.read_table(read.file.path)
    for number, row in enumerate(table.to_pylist(), start=1):
        read.records.append(LandingRecord(number, json.dumps(row, default=str, ensure_ascii=False), value=row))


def read_file(file: LandingFile) -> FileRead:
    """Read every record of `file`; an unreadable file or tail comes back as `file_error`, never raised."""
    read = FileRead(file)
    try:
        if file.format == "parquet":
            _read_parquet(read)
        elif file.format in ("jsonl", "json", "csv"):
            with _open_binary(file.path) as handle:
                {"jsonl": _read_jsonl, "json": _read_json_array, "csv": _read_csv}[file.format](read, handle)
        else:
            read.file_error = (
                f"unsupported file type '{file.path.name}': "
                "use .jsonl, .ndjson, .json, .csv or .parquet, optionally gzipped"
            )
    except (OSError, EOFError, zlib.error, ValueError, csv.Error, pa.ArrowException) as exc:
        where = f" after record {read.records[-1].line}" if read.records else ""
        read.file_error = f"unreadable file{where}: {type(exc).__name__}: {exc}"[:500]
    return read
