"""Finding and reading landing files: JSON Lines, JSON arrays, CSV and Parquet, gzip allowed.

Reading never raises for bad content: a record that cannot be parsed comes back as a `LandingRecord` with
`error` set (and the quarantine `rule` it breaks), and a file that cannot be read at all comes back with
`file_error` set, so that both reach quarantine with their reason. One bad file never stops the others: a path
that may not be read is listed with the reason it is refused. Files are read by what their bytes are (gzip,
Parquet, a UTF-16 byte-order mark), not by their name, and streamed: no more than about `max_line_bytes` of one
line or JSON file is held in memory.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import itertools
import json
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from cx_signals.bundled import project_dir


def _source_names() -> tuple[str, ...]:
    """The landing sources, one per input contract (`data_contracts/inputs/*.yml`), in their contracts' `order`."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    specs = [
        yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        for path in (project_dir("data_contracts") / "inputs").glob("*.yml")
    ]
    return tuple(spec["name"] for spec in sorted(specs, key=lambda spec: (spec.get("order", len(specs)), spec["name"])))


SOURCES = _source_names()
CONTRACT_FORMAT = "contract"  # FileRead.adapter of a file in its contract's own shape (see cx_signals.adapters)
MAX_LINE_BYTES = 16 * 2**20
# Reasons of IgnoredPath
HIDDEN = "hidden"
TEMPORARY = "Spark/Hadoop temporary or marker file"
NOT_UNDER_A_SOURCE = f"not under a source folder ({', '.join(SOURCES)})"
FOLDER_LINK = "symlink to a folder (not followed)"
NOT_A_REGULAR_FILE = "not a regular file"  # a FIFO would block the run when opened, a device never ends

_FORMAT_BY_SUFFIX = {
    ".ndjson": "jsonl",
    ".jsonl": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
}
_SNIFFED_SUFFIXES = {"", ".txt"}
_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_HEAD_BYTES = 8192
_CHUNK_BYTES = 1 << 16
_PAYLOAD_HEAD = 1000  # what a too-long line keeps as its quarantine payload
_PARQUET_BATCH_ROWS = 1000
# csv.Sniffer's quote regex is quadratic in its input: a hostile 1 MB header would take hours
_SNIFF_CHARS = 2048
_JSON_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_CSV_DELIMITERS = ",;\t|"
# The default limit (128 KiB per cell) would make a long transcript's turns cell a file error; lengths are the
# contract's business (max_text_chars), and a record's size is bounded by max_line_bytes.
csv.field_size_limit(2**31 - 1)


class LandingPathError(ValueError):
    """A landing root that does not exist or is not a folder."""


@dataclass(frozen=True)
class LandingFile:
    """A file found under the landing root. `relative` is always valid UTF-8 (undecodable bytes of its name are
    shown as \\xNN); `path` opens the real file. `path_error` says why the file must not be read, if so."""

    source: str
    path: Path
    relative: str
    sha256: str
    size_bytes: int
    home_day: date
    path_error: str | None = None

    @property
    def format(self) -> str:
        """The format the file's name says: jsonl, json, csv (.csv, .tsv), parquet or unknown (a trailing .gz is
        ignored). What the file is read as depends on its content: see `FileRead.read_as`."""
        return _FORMAT_BY_SUFFIX.get(_name_suffix(self.path)[0], "unknown")


@dataclass
class LandingRecord:
    """One record of a landing file: its 1-based line or row, the raw text, and the parsed value or the error and
    the quarantine rule it breaks."""

    line: int
    payload: str
    value: Any = None
    error: str | None = None
    rule: str = "unparseable_record"


@dataclass
class FileRead:
    """Everything read from one file: how it was read (such as "jsonl (gzip)", "csv (utf-16)", "parquet (named
    .jsonl)"), its records and, if reading stopped early or never started, why."""

    file: LandingFile
    records: list[LandingRecord] = field(default_factory=list)
    file_error: str | None = None
    read_as: str = "not read"
    deferred: bool = False  # a Parquet file left to DuckDB's reader (see `read_file`'s `defer`)
    max_records: int | None = None  # reading stops after this many records (a peek at a file's first records)
    adapter: str = CONTRACT_FORMAT  # the adapter its records were mapped by (cx_signals.adapters), if any
    file_rule: str = "unreadable_file"  # the quarantine rule of `file_error`

    def full(self) -> bool:
        """Whether `max_records` records have been read."""
        return self.max_records is not None and len(self.records) >= self.max_records


@dataclass(frozen=True)
class IgnoredPath:
    """A path under the landing root that is not read, relative to the root (valid UTF-8; folders end in /)."""

    relative: str
    reason: str


@dataclass
class LandingScan:
    """What `scan` found under a landing root: the files to read and the paths it ignored."""

    files: list[LandingFile] = field(default_factory=list)
    ignored: list[IgnoredPath] = field(default_factory=list)


class JsonRuleError(ValueError):
    """Text Python's json module accepts but RFC 8259 JSON does not allow or a record must not have: a key repeated
    in an object (the last one would silently win), or NaN/Infinity. `rule` is the quarantine rule."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JsonRuleError("duplicate_key", f"duplicate key {key[:100]!r} in a JSON object")
            seen.add(key)
    return value


def _non_finite(name: str) -> Any:
    raise JsonRuleError("non_finite_number", f"{name} is not a JSON number (RFC 8259)")


_STRICT_JSON = json.JSONDecoder(object_pairs_hook=_object, parse_constant=_non_finite)
_PLAIN_JSON = json.JSONDecoder()


def parse_json(text: str) -> Any:
    """Parse JSON text; raise JsonRuleError for a repeated key (at any depth) or NaN/Infinity, ValueError (such as
    json.JSONDecodeError) or RecursionError for text that is not JSON."""
    return _STRICT_JSON.decode(text)


def _display(name: str) -> str:
    """A file name as valid UTF-8: bytes that are not (kept by os.fsdecode as surrogates) become \\xNN."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _name_suffix(path: Path) -> tuple[str, bool]:
    """The lower-case suffix of a file's name before any .gz, and whether it ends in .gz."""
    suffixes = [s.lower() for s in path.suffixes]
    named_gz = bool(suffixes) and suffixes[-1] == ".gz"
    if named_gz:
        suffixes.pop()
    return (suffixes[-1] if suffixes else ""), named_gz


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _home_day(path: Path, follow_symlinks: bool = True) -> date:
    """The partition a file's undated records and file-level errors belong to: a date in its name, else its mtime
    (today if even that cannot be read or is out of range)."""
    match = _DATE_IN_NAME.search(path.name)
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    try:
        return datetime.fromtimestamp(path.stat(follow_symlinks=follow_symlinks).st_mtime, tz=UTC).date()
    except (OSError, OverflowError, ValueError):
        return datetime.now(UTC).date()


def _outside(root: Path, resolved: Path) -> bool:
    return resolved != root and root not in resolved.parents


def _listing(folder: str | Path, relative: str, found: LandingScan) -> Iterator[os.DirEntry[str]]:
    """The entries of `folder` in name order; none (and `folder` ignored, with why) if it cannot be listed."""
    try:
        with os.scandir(folder) as entries:
            return iter(sorted(entries, key=lambda entry: entry.name))
    except OSError as exc:
        found.ignored.append(IgnoredPath(_display(relative) + "/", f"folder that cannot be listed: {exc.strerror}"))
        return iter(())


def _landing_file(source: str, path: Path, resolved: Path, relative: str) -> LandingFile:
    # A file that cannot be hashed is still listed, with a placeholder hash, so that reading it fails and
    # quarantines it as a file.
    try:
        sha256, size_bytes = _sha256(resolved), resolved.stat().st_size
    except OSError:
        sha256, size_bytes = f"unreadable:{relative}", 0
    return LandingFile(source, resolved, relative, sha256, size_bytes, _home_day(path))


def _refused(root: Path, source: str, path: Path, resolved: Path, relative: str) -> LandingFile:
    # Neither hashed nor opened: the target could be anything outside the root (a secret, /dev/zero).
    reason = f"{relative} resolves outside the landing root {_display(str(root))} (to {_display(str(resolved))})"
    return LandingFile(
        source, path, relative, f"refused:{relative}", 0, _home_day(path, follow_symlinks=False), path_error=reason
    )


def _walk(root: Path, source: str, found: LandingScan) -> None:
    """Add the files under `root/source/` to `found`, depth first in name order (the order of their paths), and the
    paths ignored there."""
    stack = [(_listing(root / source, source, found), source)]
    while stack:
        entries, prefix = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        name = f"{prefix}/{entry.name}"
        relative = _display(name)
        is_folder = entry.is_dir(follow_symlinks=False)
        reason = HIDDEN if entry.name.startswith(".") else TEMPORARY if entry.name.startswith("_") else None
        if reason:
            found.ignored.append(IgnoredPath(relative + "/" if is_folder else relative, reason))
        elif is_folder:  # walked whatever its name: Spark writes events.parquet/part-0.parquet
            stack.append((_listing(entry.path, name, found), name))
        else:
            # os.path.realpath, not Path.resolve, which raises on a symlink loop
            resolved = Path(os.path.realpath(entry.path))
            path = Path(entry.path)
            if _outside(root, resolved):
                found.files.append(_refused(root, source, path, resolved, relative))
            elif os.path.isdir(entry.path):
                found.ignored.append(IgnoredPath(relative, FOLDER_LINK))
            elif os.path.isfile(entry.path) or not os.path.exists(entry.path):
                # a dangling or looping link is listed, so that reading it fails and quarantines it as a file
                found.files.append(_landing_file(source, path, resolved, relative))
            else:
                found.ignored.append(IgnoredPath(relative, NOT_A_REGULAR_FILE))


def scan(root: Path) -> LandingScan:
    """List the landing files under `root/<source>/` for the known sources, in a stable order, and what is ignored.

    Ignored, and listed with the reason: any file or folder under a source folder whose name starts with '.'
    (hidden) or '_' (Spark/Hadoop `_SUCCESS`, `_temporary/`; `_truth/`), everything directly under the root but
    the source folders, symlinks to folders, FIFOs and devices. Other folders are walked whatever their name. A
    file that resolves outside the root is listed with `path_error` set, so that it is quarantined as a file and
    never opened. Raises LandingPathError only if `root` is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise LandingPathError(f"landing folder {root} does not exist or is not a folder")
    try:
        with os.scandir(root) as entries:
            top = sorted(entries, key=lambda entry: entry.name)
    except OSError as exc:
        raise LandingPathError(f"landing folder {root} cannot be listed: {exc.strerror}") from exc
    found = LandingScan()
    resolved_root = Path(os.path.realpath(root))
    folders = {entry.name for entry in top if entry.name in SOURCES and os.path.isdir(entry.path)}
    for source in SOURCES:
        if source in folders:
            _walk(resolved_root, source, found)
    for entry in top:
        if entry.name not in folders:
            relative = _display(entry.name) + ("/" if os.path.isdir(entry.path) else "")
            found.ignored.append(IgnoredPath(relative, NOT_UNDER_A_SOURCE))
    return found


def landing_files(root: Path, relatives: list[str]) -> Iterator[LandingFile]:
    """The LandingFile of each of `relatives` (paths under `root`, such as "events/e-2026-10-01.parquet"), built as
    `scan` builds it (a link out of the root is refused, never opened), hashing only these files."""
    resolved_root = Path(os.path.realpath(root))
    for relative in relatives:
        path = root / relative
        source = Path(relative).parts[0]
        resolved = Path(os.path.realpath(path))
        if _outside(resolved_root, resolved):
            yield _refused(resolved_root, source, path, resolved, relative)
        else:
            yield _landing_file(source, path, resolved, relative)


def discover(root: Path) -> list[LandingFile]:
    """The landing files under `root` (see `scan`); raises LandingPathError only if `root` is not a folder."""
    return scan(root).files


class _Utf16AsUtf8(io.RawIOBase):
    """UTF-16 text (after its byte-order mark) as a stream of UTF-8 bytes, so that every format reads UTF-8. A lone
    surrogate passes through as invalid UTF-8, which rejects its record; a cut code unit ends the file in error."""

    def __init__(self, stream: io.BufferedIOBase) -> None:
        super().__init__()
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder("utf-16")("surrogatepass")
        self._pending = b""
        self._offset = 0

    def readable(self) -> bool:
        """Always true: this stream is read-only."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill `buffer` with the next UTF-8 bytes; 0 at the end."""
        while self._offset == len(self._pending):
            chunk = self._stream.read(_CHUNK_BYTES)
            self._pending = self._decoder.decode(chunk, final=not chunk).encode("utf-8", "surrogatepass")
            self._offset = 0
            if not chunk:
                break
        size = min(len(buffer), len(self._pending) - self._offset)
        buffer[:size] = self._pending[self._offset : self._offset + size]
        self._offset += size
        return size


def _detect(file: LandingFile, head: bytes) -> tuple[str, str]:
    """The format of a file from its first (decompressed) bytes and, when they do not tell, its name; and the
    encoding of its text. The format is empty, parquet, jsonl, json, csv, binary or unsupported."""
    if not head:
        return "empty", "utf-8"
    if head.startswith(_PARQUET_MAGIC):
        return "parquet", "utf-8"
    encoding = "utf-16" if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8"
    if file.format in ("jsonl", "json", "csv"):
        return file.format, encoding
    if file.format != "parquet" and _name_suffix(file.path)[0] not in _SNIFFED_SUFFIXES:
        return "unsupported", encoding
    if encoding == "utf-8" and b"\x00" in head:
        return "binary", encoding
    first = head.decode(encoding, "replace").lstrip("\ufeff \t\r\n")[:1]
    return {"[": "json", "{": "jsonl"}.get(first, "csv"), encoding


def _describe(file: LandingFile, fmt: str, encoding: str, gzipped: bool) -> str:
    """How a file is read, for the run summary: "jsonl (gzip)", "csv (utf-16)", "parquet (named .jsonl)"."""
    if fmt in ("binary", "unsupported"):
        return "unsupported"
    suffix, named_gz = _name_suffix(file.path)
    notes = []
    if gzipped:
        notes.append("gzip" if named_gz else "gzip, not named .gz")
    elif named_gz:
        notes.append("named .gz, not gzip")
    if encoding == "utf-16":
        notes.append("utf-16")
    if fmt != "empty" and fmt != file.format:
        notes.append(f"named {suffix}" if suffix else "no suffix")
    return fmt + (f" ({', '.join(notes)})" if notes else "")


def _decode(raw: bytes) -> tuple[str, str | None]:
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return raw.decode("utf-8", errors="backslashreplace"), f"invalid UTF-8 at byte {exc.start}"


def _readable(text: str) -> str:
    """Text decoded with surrogateescape, with its undecodable bytes as \\xNN."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _skip_line(stream: io.BufferedIOBase) -> None:
    """Read to the end of the current line in bounded chunks."""
    while (chunk := stream.readline(_CHUNK_BYTES)) and not chunk.endswith(b"\n"):
        pass


def _too_long(number: int, payload: str, limit: int) -> LandingRecord:
    return LandingRecord(number, payload, error=f"line longer than {limit} bytes (not read)", rule="line_too_long")


def _lines(stream: io.BufferedIOBase, limit: int) -> Iterator[tuple[int, bytes, bool]]:
    """Each line of `stream`: its 1-based number, its bytes without the line ending and whether it is longer than
    `limit` bytes, in which case only its start is given and the rest is skipped without being held."""
    for number in itertools.count(1):
        line = stream.readline(limit + 2)
        if not line:
            return
        if len(line) == limit + 2 and not line.endswith(b"\n"):
            line = line[:_PAYLOAD_HEAD]
            _skip_line(stream)
            yield number, line, True
            continue
        content = line.rstrip(b"\r\n")
        if len(content) > limit:
            yield number, content[:_PAYLOAD_HEAD], True
        else:
            yield number, content, False


def json_record(number: int, text: str) -> LandingRecord:
    """Line `number` of a JSON Lines file parsed strictly (see `parse_json`): its value, or its error and rule."""
    record = LandingRecord(number, text)
    try:
        record.value = parse_json(text)
    except JsonRuleError as exc:
        record.error, record.rule = str(exc), exc.rule
    except json.JSONDecodeError as exc:
        record.error = f"invalid JSON: {exc.msg} at column {exc.colno}"
    except (ValueError, RecursionError) as exc:  # a 5000-digit number, nesting deeper than Python's stack
        record.error = f"invalid JSON: {type(exc).__name__}: {exc}"[:500]
    return record


def _read_jsonl(read: FileRead, stream: io.BufferedIOBase, limit: int, parse: bool = True) -> None:
    for number, raw, too_long in _lines(stream, limit):
        if read.full():
            return
        text, error = _decode(raw)
        if too_long:
            read.records.append(_too_long(number, text, limit))
        elif not text.strip():
            continue
        elif error:
            read.records.append(LandingRecord(number, text, error=error))
        else:
            read.records.append(json_record(number, text) if parse else LandingRecord(number, text))


def _json_element(text: str, start: int) -> tuple[int, Any, JsonRuleError | None]:
    """The end and value of the JSON value at `start`, or the rule it breaks (its end found by a lenient parse)."""
    try:
        value, end = _STRICT_JSON.raw_decode(text, start)
        return end, value, None
    except JsonRuleError as exc:
        return _PLAIN_JSON.raw_decode(text, start)[1], None, exc


def _skip_whitespace(text: str, index: int) -> int:
    match = _JSON_WHITESPACE.match(text, index)
    return match.end() if match else index


def _json_elements(text: str) -> list[tuple[int, int, Any, JsonRuleError | None]] | None:
    """(start, end, value, rule broken) of each element of the JSON array in `text`, or of its one object; None if
    it holds something else. Parsed element by element, so that a repeated key or NaN rejects only its element;
    text that is not JSON raises json.JSONDecodeError (or ValueError, RecursionError)."""
    index = _skip_whitespace(text, 0)
    elements: list[tuple[int, int, Any, JsonRuleError | None]] = []
    if not text.startswith("[", index):
        end, value, error = _json_element(text, index)
        if error is None and not isinstance(value, dict):
            return None
        elements.append((index, end, value, error))
        index = end
    elif text.startswith("]", index := _skip_whitespace(text, index + 1)):
        index += 1
    else:
        while True:
            end, value, error = _json_element(text, index)
            elements.append((index, end, value, error))
            index = _skip_whitespace(text, end)
            if text.startswith("]", index):
                index += 1
                break
            if not text.startswith(",", index):
                raise json.JSONDecodeError("Expecting ',' delimiter", text, index)
            index = _skip_whitespace(text, index + 1)
    if _skip_whitespace(text, index) != len(text):
        raise json.JSONDecodeError("Extra data", text, index)
    return elements


def _read_json_array(read: FileRead, stream: io.BufferedIOBase, limit: int) -> None:
    data = stream.read(limit + 1)
    if len(data) > limit:
        read.file_error = (
            f"a .json file larger than {limit} bytes is not read (a JSON array is parsed whole): "
            "write large exports as JSON Lines (.jsonl), one record per line"
        )
        return
    text, error = _decode(data)
    del data
    if error:
        read.file_error = error
        return
    if not text.strip():
        return
    try:
        elements = _json_elements(text)
    except json.JSONDecodeError as exc:
        read.file_error = f"invalid JSON: {exc.msg} at line {exc.lineno}"
        return
    except (ValueError, RecursionError) as exc:
        read.file_error = f"invalid JSON: {type(exc).__name__}: {exc}"[:500]
        return
    if elements is None:
        read.file_error = "a .json file must hold an object or an array of objects"
        return
    for number, (start, end, value, rule_error) in enumerate(elements, start=1):
        if read.full():
            return
        if rule_error:
            read.records.append(LandingRecord(number, text[start:end], error=str(rule_error), rule=rule_error.rule))
        else:
            read.records.append(LandingRecord(number, json.dumps(value, ensure_ascii=False), value=value))


def _invalid_utf8(cells: list[str]) -> str | None:
    """Where the first undecodable byte is in cells decoded with surrogateescape, or None if they are valid UTF-8."""
    for index, cell in enumerate(cells):
        try:
            cell.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"invalid UTF-8 in cell {index + 1} at character {exc.start}"
    return None


def _longer_than(text: str, limit: int) -> bool:
    """Whether `text` (decoded with surrogateescape) is more than `limit` bytes of UTF-8, encoding it only when its
    length in characters does not tell."""
    return len(text) > limit or (4 * len(text) > limit and len(text.encode("utf-8", "surrogateescape")) > limit)


class _CsvRecordTooLong(Exception):
    """A CSV record over several lines (a quoted cell with line breaks) longer than the line limit."""


class _CsvLines:
    """The lines of a CSV text stream, for csv.reader. A line longer than `limit` bytes is skipped without being
    held: csv.reader gets an empty line instead and `too_long` holds the line's start. A record over several lines
    longer than `limit` raises _CsvRecordTooLong: an unclosed quote would otherwise make the rest of the file one
    cell. `record_chars` must be reset after each record."""

    def __init__(self, text: io.TextIOWrapper, limit: int) -> None:
        self._text = text
        self._limit = limit
        self._after_cr = False
        self.too_long: str | None = None
        self.record_chars = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = self._text.readline(self._limit + 2)
        if self._after_cr and line == "\n":  # the rest of the \r\n ending a skipped line
            line = self._text.readline(self._limit + 2)
        self._after_cr = False
        if not line:
            raise StopIteration
        cut = len(line) == self._limit + 2 and not line.endswith(("\n", "\r"))
        if cut or _longer_than(line.rstrip("\r\n"), self._limit):
            if self.record_chars:
                raise _CsvRecordTooLong
            self.too_long = _readable(line[:_PAYLOAD_HEAD])
            end = line[-1]
            del line
            while cut and (chunk := self._text.readline(_CHUNK_BYTES)):
                end = chunk[-1]
                cut = end not in "\r\n"
            self._after_cr = end == "\r"
            return "\n"
        continued = self.record_chars > 0
        self.record_chars += len(line)
        if continued and self.record_chars > self._limit:
            raise _CsvRecordTooLong
        return line


def _header(cells: list[str], known_fields: frozenset[str] | None) -> tuple[list[str], str | None]:
    """The field names a CSV header gives its columns (stripped; matched to a known field ignoring case when only one
    matches), or why the file cannot be read with it: a name repeated, or no known field named at all."""
    names = [cell.strip() for cell in cells]
    if known_fields is not None:
        by_lower: dict[str, list[str]] = {}
        for known in known_fields:
            by_lower.setdefault(known.lower(), []).append(known)
        names = [
            name if name in known_fields or len(by_lower.get(name.lower(), ())) != 1 else by_lower[name.lower()][0]
            for name in names
        ]
    columns: dict[str, list[int]] = {}
    for number, name in enumerate(names, start=1):
        if name:  # unnamed columns are not fields: several are not a conflict
            columns.setdefault(name, []).append(number)
    repeated = [
        f"{name!r} (columns {', '.join(map(str, at[:5]))}{', ...' if len(at) > 5 else ''})"
        for name, at in columns.items()
        if len(at) > 1
    ]
    if repeated:
        return names, f"duplicated column names in the header: {'; '.join(repeated[:10])}"
    if known_fields is not None and known_fields.isdisjoint(names):
        first_row = ",".join(cells)[:200]
        return names, (
            f"no header row: the first row ({first_row!r}) names none of the fields ({', '.join(sorted(known_fields))})"
        )
    return names, None


def _tsv_unquoted(first: str, delimiter: str) -> bool:
    """Whether a tab-separated file is read without CSV quoting: its first line quotes no cell (TSV as IANA defines
    it and as Snowplow writes it has no quoting; a JSON cell starting with a quote would otherwise swallow tabs)."""
    return delimiter == "\t" and not first.startswith('"') and '\t"' not in first


def _read_csv(
    read: FileRead, stream: io.BufferedIOBase, known_fields: frozenset[str] | None, limit: int, header: bool = True
) -> None:
    # Streamed, so that rows before a truncated gzip's damage are kept, and decoded with surrogateescape, so that
    # a row with invalid UTF-8 is rejected on its own instead of the whole file.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    lines = _CsvLines(text, limit)
    for first in lines:
        if lines.too_long is not None:
            read.file_error = f"header line longer than {limit} bytes (not read)"
            return
        if first.strip():
            break
        lines.record_chars = 0
    else:
        return
    try:
        delimiter = csv.Sniffer().sniff(first.rstrip("\r\n")[:_SNIFF_CHARS], delimiters=_CSV_DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","
    if first.count("\t") >= max(1, first.count(",")):  # the sniffer may take the commas of a TSV's JSON cells
        delimiter = "\t"
    quoting = csv.QUOTE_NONE if known_fields is None and _tsv_unquoted(first, delimiter) else csv.QUOTE_MINIMAL
    reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter, quoting=quoting)
    if not header:
        _read_rows(read, reader, lines, delimiter, limit)
        return
    try:
        cells = next(reader)
        lines.record_chars = 0
        if _invalid_utf8(cells):
            read.file_error = f"header: {_invalid_utf8(cells)}"
            return
        if len(cells) == 1:
            read.file_error = (
                f"header has one column ({cells[0][:80]!r}): wrong delimiter? use comma, semicolon, tab or |"
            )
            return
        header, read.file_error = _header(cells, known_fields)
        if read.file_error:
            return
        for number, row in _delimited_rows(read, reader, lines, limit, first=2):
            payload = _readable(delimiter.join(row))
            error = _invalid_utf8(row)
            if error is None and len(row) != len(header):
                error = f"row has {len(row)} cells, header has {len(header)}"
            if error:
                read.records.append(LandingRecord(number, payload, error=error))
                continue
            read.records.append(LandingRecord(number, payload, value=dict(zip(header, row, strict=True))))
    except _CsvRecordTooLong:
        _record_too_long(read, limit)


def _record_too_long(read: FileRead, limit: int) -> None:
    read.file_error = (
        f"unreadable file{_after(read)}: a record over several lines is longer than {limit} bytes "
        "(an unclosed quote?); the rest of the file is not read"
    )


def _delimited_rows(
    read: FileRead, reader: Iterator[list[str]], lines: _CsvLines, limit: int, first: int
) -> Iterator[tuple[int, list[str]]]:
    """(line number from `first`, cells) of each non-empty row of `reader` until `read` is full; a line over `limit`
    bytes is added to `read` as a too-long reject instead, and a record over several lines that is too long ends the
    file with its error."""
    try:
        for number, row in enumerate(reader, start=first):
            if read.full():
                return
            lines.record_chars = 0
            if lines.too_long is not None:
                read.records.append(_too_long(number, lines.too_long, limit))
                lines.too_long = None
            elif row:
                yield number, row
    except _CsvRecordTooLong:
        _record_too_long(read, limit)


def _read_rows(read: FileRead, reader: Iterator[list[str]], lines: _CsvLines, delimiter: str, limit: int) -> None:
    """Every row of a delimited file without a header (its first row included) as a list of cells."""
    for number, row in _delimited_rows(read, reader, lines, limit, first=1):
        error = _invalid_utf8(row)
        payload = _readable(delimiter.join(row))
        read.records.append(
            LandingRecord(number, payload, error=error) if error else LandingRecord(number, payload, value=row)
        )


def _read_parquet(read: FileRead, stream: io.BufferedIOBase) -> None:
    # Row group by row group, so that memory follows a row group's size and the rows before a damaged row group
    # are kept. From the open file, not its path: pyarrow cannot open a path that is not valid UTF-8.
    parquet = pq.ParquetFile(stream)
    number = 0
    for group in range(parquet.num_row_groups):
        for batch in parquet.iter_batches(batch_size=_PARQUET_BATCH_ROWS, row_groups=[group]):
            for row in batch.to_pylist():
                if read.full():
                    return
                number += 1
                payload = json.dumps(row, default=str, ensure_ascii=False)
                read.records.append(LandingRecord(number, payload, value=row))


def _read_content(
    read: FileRead,
    stream: io.BufferedReader | gzip.GzipFile,
    gzipped: bool,
    known_fields: frozenset[str] | None,
    limit: int,
    defer: bool,
    header: bool,
) -> None:
    fmt, encoding = _detect(read.file, stream.peek(_HEAD_BYTES)[:_HEAD_BYTES])
    read.read_as = _describe(read.file, fmt, encoding, gzipped)
    name = read.file.relative.rsplit("/", 1)[-1]
    if fmt == "unsupported":
        read.file_error = (
            f"unsupported file type '{name}': use .jsonl, .ndjson, .json, .csv, .tsv or .parquet, optionally gzipped"
        )
    elif fmt == "binary":
        read.file_error = f"unsupported file type '{name}': binary content that is neither Parquet nor gzip"
    elif fmt == "parquet" and gzipped:
        read.file_error = "a gzipped Parquet file cannot be streamed: store Parquet uncompressed (it compresses itself)"
    elif fmt == "parquet" and defer:
        read.deferred = True
    elif fmt == "parquet":
        _read_parquet(read, stream)
    elif fmt != "empty":  # empty like an empty text file, not a broken Parquet file
        text = io.BufferedReader(_Utf16AsUtf8(stream)) if encoding == "utf-16" else stream
        if fmt == "csv":
            _read_csv(read, text, known_fields, limit, header)
        elif fmt == "jsonl":
            _read_jsonl(read, text, limit, parse=not (defer and encoding == "utf-8"))
        else:
            _read_json_array(read, text, limit)


def _after(read: FileRead) -> str:
    return f" after record {read.records[-1].line}" if read.records else ""


def read_file(
    file: LandingFile,
    known_fields: frozenset[str] | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
    defer: bool = False,
    header: bool = True,
    max_records: int | None = None,
) -> FileRead:
    """Read every record of `file` by what its content is (see `FileRead.read_as`); an unreadable file or tail comes
    back as `file_error`, never raised.

    `known_fields` (the source's field names) maps CSV header names to them ignoring case and rejects a CSV whose
    first row names none of them (no header row). A JSON Lines or CSV line longer than `max_line_bytes` becomes one
    rejected record, without being held in memory; a larger .json file is a file error.

    `defer` leaves the parsing to DuckDB where its readers see what Python would: UTF-8 JSON Lines records come back
    as text (`value` and `error` None), and a Parquet file is not read at all (`deferred`).

    Without `header`, a CSV or TSV file's rows (the first included, numbered from 1) come back as lists of cells. A
    tab-separated file read without `known_fields` whose first line quotes nothing is read without quoting. With
    `max_records`, reading stops after that many records (a peek at the first records of a file of any size).
    """
    read = FileRead(file, max_records=max_records)
    if file.path_error:
        read.file_error = file.path_error
        return read
    try:
        with file.path.open("rb") as raw:
            if raw.peek(len(_GZIP_MAGIC)).startswith(_GZIP_MAGIC):
                with gzip.GzipFile(fileobj=raw) as unzipped:
                    _read_content(read, unzipped, True, known_fields, max_line_bytes, defer, header)
            else:
                _read_content(read, raw, False, known_fields, max_line_bytes, defer, header)
    except (OSError, EOFError, zlib.error, ValueError, csv.Error, pa.ArrowException) as exc:
        message = f"unreadable file{_after(read)}: {type(exc).__name__}: {exc}"[:500]
        read.file_error = message.encode("utf-8", "backslashreplace").decode("utf-8")  # stored: valid UTF-8 only
    return read
