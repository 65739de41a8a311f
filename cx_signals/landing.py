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
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

SOURCES = ("transcripts", "telemetry", "events")
_TEXT_SUFFIXES = {".jsonl", ".ndjson", ".json", ".csv"}
_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_CSV_DELIMITERS = ",;\t|"


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
    """The partition a file's undated records and file-level errors belong to: a date in its name, else its mtime."""
    match = _DATE_IN_NAME.search(path.name)
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).date()


def confine(root: Path, candidate: Path) -> Path:
    """Resolve `candidate` and check it stays inside `root` (symlinks included); raise LandingPathError if not."""
    resolved_root = root.resolve()
    resolved = candidate.resolve()
    if resolved != resolved_root and resolved_root not in resolved.parents:
        raise LandingPathError(f"{candidate} resolves to {resolved}, outside the landing root {resolved_root}")
    return resolved


def discover(root: Path) -> list[LandingFile]:
    """List every landing file under `root/<source>/` for the known sources, in a stable order.

    Files outside the root (through symlinks) are refused; hidden files and `_truth/` are ignored.
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
            found.append(
                LandingFile(
                    source=source,
                    path=resolved,
                    relative=path.relative_to(root).as_posix(),
                    sha256=_sha256(resolved),
                    size_bytes=resolved.stat().st_size,
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
        read.records.append(record)


def _read_json_array(read: FileRead, handle: io.BufferedIOBase) -> None:
    text, error = _decode(handle.read())
    if error:
        read.file_error = error
        return
    try:
        values = json.loads(text)
    except json.JSONDecodeError as exc:
        read.file_error = f"invalid JSON: {exc.msg} at line {exc.lineno}"
        return
    if isinstance(values, dict):
        values = [values]
    if not isinstance(values, list):
        read.file_error = "a .json file must hold an object or an array of objects"
        return
    for number, value in enumerate(values, start=1):
        read.records.append(LandingRecord(line=number, payload=json.dumps(value, ensure_ascii=False), value=value))


def _read_csv(read: FileRead, handle: io.BufferedIOBase) -> None:
    text, error = _decode(handle.read())
    if error:
        read.file_error = error
        return
    if not text.strip():
        return
    sample = text[:65536]
    try:
        dialect = csv.Sniffer().sniff(sample.splitlines()[0], delimiters=_CSV_DELIMITERS)
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    if not header:
        return
    for number, row in enumerate(reader, start=2):
        if not row:
            continue
        payload = delimiter.join(row)
        if len(row) != len(header):
            read.records.append(
                LandingRecord(number, payload, error=f"row has {len(row)} cells, header has {len(header)}")
            )
            continue
        read.records.append(LandingRecord(number, payload, value=dict(zip(header, row, strict=True))))


def _read_parquet(read: FileRead) -> None:
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
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        where = f" after record {read.records[-1].line}" if read.records else ""
        read.file_error = f"unreadable file{where}: {type(exc).__name__}: {exc}"[:500]
    return read


def iter_records(reads: list[FileRead]) -> Iterator[tuple[LandingFile, LandingRecord]]:
    """Every record of every file, in file then line order."""
    for read in reads:
        for record in read.records:
            yield read.file, record
