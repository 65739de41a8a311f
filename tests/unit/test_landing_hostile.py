"""Hostile landing input: escaping symlinks, undecodable names, ignore conventions, files whose name lies about
their content, CSV headers that are missing or repeated, lines and files too large for memory, and JSON that
Python accepts but a record must not have. Each test fails if its protection in `cx_signals.landing` is removed."""

from __future__ import annotations

import codecs
import gzip
import json
import math
import os
import threading
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cx_signals.config import load_config
from cx_signals.contracts import TimeBounds, input_contracts
from cx_signals.db import replace_rows
from cx_signals.ingest import ingest_source
from cx_signals.landing import (
    FOLDER_LINK,
    HIDDEN,
    NOT_A_REGULAR_FILE,
    NOT_UNDER_A_SOURCE,
    TEMPORARY,
    FileRead,
    IgnoredPath,
    JsonRuleError,
    LandingFile,
    LandingPathError,
    discover,
    parse_json,
    read_file,
    scan,
)

CORPUS = Path(__file__).resolve().parents[1] / "data" / "bad_input"
CONFIG = load_config()
BOUNDS = TimeBounds.from_config(CONFIG, datetime(2026, 11, 1))
LIMITS = {k: CONFIG["ingest"][k] for k in ("max_text_chars", "placeholder_ids")}
DAY = date(2026, 10, 1)
KEY = b"test-key"
MIB = 1 << 20


def known(source: str) -> frozenset[str]:
    return frozenset(f.name for f in input_contracts()[source].fields)


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def event(i: int) -> dict[str, Any]:
    return {"event_id": f"e{i}", "ts": f"2026-10-01T11:00:{i:02d}Z", "anonymous_id": "a1", "event_type": "click"}


def jsonl(*records: dict[str, Any]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def the_file(root: Path, relative: str) -> LandingFile:
    [file] = [f for f in discover(root) if f.relative == relative]
    return file


def read(root: Path, relative: str, **kwargs: Any) -> FileRead:
    return read_file(the_file(root, relative), **kwargs)


def summary(result: FileRead) -> list[tuple[int, Any, str | None, str]]:
    return [(r.line, r.value, r.error, r.rule) for r in result.records]


def finishes_within(seconds: float, work: Callable[[], Any]) -> Any:
    """The result of `work`, failing (instead of hanging the suite) if it takes longer than `seconds`."""
    outcome: list[Any] = []
    worker = threading.Thread(target=lambda: outcome.append(work()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert outcome, f"still running after {seconds} s"
    return outcome[0]


def peak_bytes(work: Callable[[], Any]) -> tuple[Any, int]:
    """The result of `work` and the peak of Python memory it allocated."""
    tracemalloc.start()
    try:
        return work(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# 1. One bad file does not stop the others


def test_a_symlink_out_of_the_root_is_a_refused_file_never_opened_and_the_others_are_read(tmp_path, monkeypatch):
    secret = write(tmp_path / "secret" / "keys.jsonl", jsonl(event(99)))
    root = tmp_path / "landing"
    write(root / "events" / "a-2026-10-01.jsonl", jsonl(event(1)))
    (root / "events" / "b-link-2026-10-01.jsonl").symlink_to(secret)
    (root / "events" / "c-folder-link").symlink_to(secret.parent)
    (root / "events" / "d-dangling.jsonl").symlink_to(root / "events" / "gone.jsonl")
    (root / "events" / "e-loop.jsonl").symlink_to(root / "events" / "e-loop.jsonl")
    write(root / "events" / "z-2026-10-01.jsonl", jsonl(event(2)))
    real_open = Path.open

    def guarded_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        assert Path(os.path.realpath(self)).parent != secret.parent, f"{self} was opened"
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", guarded_open)

    files = {f.relative: f for f in discover(root)}

    assert sorted(files) == [
        "events/a-2026-10-01.jsonl",
        "events/b-link-2026-10-01.jsonl",
        "events/c-folder-link",
        "events/d-dangling.jsonl",
        "events/e-loop.jsonl",
        "events/z-2026-10-01.jsonl",
    ]
    reads = {relative: read_file(file) for relative, file in files.items()}
    for refused in ("events/b-link-2026-10-01.jsonl", "events/c-folder-link"):
        assert files[refused].sha256 == f"refused:{refused}"
        assert "resolves outside the landing root" in reads[refused].file_error
        assert reads[refused].records == []
    assert "FileNotFoundError" in reads["events/d-dangling.jsonl"].file_error
    assert "Too many levels of symbolic links" in reads["events/e-loop.jsonl"].file_error
    assert reads["events/a-2026-10-01.jsonl"].records[0].value == event(1)
    assert reads["events/z-2026-10-01.jsonl"].records[0].value == event(2)


def test_a_file_name_that_is_not_utf8_is_shown_escaped_and_its_records_load_and_store(tmp_path, con):
    events = os.path.join(os.fsencode(tmp_path), b"events")
    os.makedirs(events)
    with open(os.path.join(events, b"caf\xe9-2026-10-01.jsonl"), "wb") as handle:
        handle.write(jsonl(event(1), {"event_id": "bad"}).encode())
    with open(os.path.join(events, b"na\xefve-2026-10-01.parquet"), "wb") as handle:
        pq.write_table(pa.Table.from_pylist([event(2)]), handle)
    os.makedirs(os.path.join(events, b".cach\xe9"))

    found = scan(tmp_path)

    assert [f.relative for f in found.files] == [
        "events/caf\\xe9-2026-10-01.jsonl",
        "events/na\\xefve-2026-10-01.parquet",
    ]
    assert found.ignored == [IgnoredPath("events/.cach\\xe9/", HIDDEN)]
    assert all(Path(f.path).exists() for f in found.files)  # the real file, not the shown name
    result = ingest_source("events", found.files, {DAY}, BOUNDS, KEY, **LIMITS)
    assert sorted(r["event_id"] for r in result.rows["raw.events"]) == ["e1", "e2"]
    # the crash: pyarrow's UnicodeEncodeError when the relative path is stored
    assert replace_rows(con, "raw.events", [DAY], result.rows["raw.events"]) == 2
    replace_rows(con, "quarantine.rejects", [DAY], result.rejects)
    assert con.execute("SELECT source_file FROM quarantine.rejects").fetchall() == [
        ("events/caf\\xe9-2026-10-01.jsonl",)
    ]


# 2. Ignore conventions, applied consistently and reported


def test_dot_and_underscore_paths_and_paths_outside_the_source_folders_are_ignored_with_the_reason(tmp_path):
    for relative in (
        "events/.git/objects/x.jsonl",
        "events/.hidden-2026-10-01.jsonl",
        "events/_SUCCESS",
        "events/_temporary/0/_temporary/attempt_1/part-0.jsonl",
        "events/_truth/planted.jsonl",
        "events/spark-2026-10-01.parquet/_SUCCESS",
        "events/spark-2026-10-01.parquet/part-0.jsonl",
        "events/sub/.cache/y.jsonl",
        "events/sub/ok-2026-10-01.jsonl",
        "_truth/conversations.parquet",
        "archive/events/old.jsonl",
        "README.md",
        ".DS_Store",
        "telemetry/t-2026-10-01.jsonl",
    ):
        write(tmp_path / relative, jsonl(event(1)))
    (tmp_path / "telemetry" / "link").symlink_to(tmp_path / "telemetry" / "..", target_is_directory=True)
    os.mkfifo(tmp_path / "events" / "pipe.jsonl")

    found = finishes_within(10, lambda: scan(tmp_path))  # opening the FIFO would block forever

    assert [f.relative for f in found.files] == [
        "telemetry/t-2026-10-01.jsonl",
        "events/spark-2026-10-01.parquet/part-0.jsonl",
        "events/sub/ok-2026-10-01.jsonl",
    ]
    assert found.ignored == [
        IgnoredPath("telemetry/link", FOLDER_LINK),
        IgnoredPath("events/.git/", HIDDEN),
        IgnoredPath("events/.hidden-2026-10-01.jsonl", HIDDEN),
        IgnoredPath("events/_SUCCESS", TEMPORARY),
        IgnoredPath("events/_temporary/", TEMPORARY),
        IgnoredPath("events/_truth/", TEMPORARY),
        IgnoredPath("events/pipe.jsonl", NOT_A_REGULAR_FILE),
        IgnoredPath("events/spark-2026-10-01.parquet/_SUCCESS", TEMPORARY),
        IgnoredPath("events/sub/.cache/", HIDDEN),
        IgnoredPath(".DS_Store", NOT_UNDER_A_SOURCE),
        IgnoredPath("README.md", NOT_UNDER_A_SOURCE),
        IgnoredPath("_truth/", NOT_UNDER_A_SOURCE),
        IgnoredPath("archive/", NOT_UNDER_A_SOURCE),
    ]
    assert NOT_UNDER_A_SOURCE == "not under a source folder (transcripts, telemetry, events, actions)"
    assert discover(tmp_path) == found.files


def test_a_missing_root_or_a_root_that_is_a_file_is_a_usage_error(tmp_path):
    with pytest.raises(LandingPathError, match="does not exist or is not a folder"):
        scan(tmp_path / "missing")
    with pytest.raises(LandingPathError, match="does not exist or is not a folder"):
        discover(write(tmp_path / "file", "x"))


# 3. Files are read by what they are


JSONL = jsonl(event(1), event(2)) + '{"event_id": "cut", \n'
CSV = "event_id,ts,anonymous_id,event_type\ne1,2026-10-01T11:00:01Z,a1,click\ne2,2026-10-01T11:00:02Z,a1,café\n"
JSON = "\n " + json.dumps([event(1), event(2)])


def parquet_bytes(tmp_path: Path, rows: list[dict[str, Any]]) -> bytes:
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "scratch.parquet")
    return (tmp_path / "scratch.parquet").read_bytes()


def utf16_le(text: str) -> bytes:
    return codecs.BOM_UTF16_LE + text.encode("utf-16-le")


@pytest.mark.parametrize(
    ("name", "data", "read_as", "twin"),
    [
        ("e.jsonl", gzip.compress(JSONL.encode()), "jsonl (gzip, not named .gz)", "t.jsonl"),
        ("e.jsonl.gz", JSONL.encode(), "jsonl (named .gz, not gzip)", "t.jsonl"),
        ("e.jsonl.gz", gzip.compress(JSONL.encode()), "jsonl (gzip)", "t.jsonl"),
        ("e.gz", gzip.compress(JSONL.encode()), "jsonl (gzip, no suffix)", "t.jsonl"),
        ("e.jsonl", utf16_le(JSONL), "jsonl (utf-16)", "t.jsonl"),
        ("e.jsonl", codecs.BOM_UTF16_BE + JSONL.encode("utf-16-be"), "jsonl (utf-16)", "t.jsonl"),
        ("e.jsonl", codecs.BOM_UTF8 + JSONL.encode(), "jsonl", "t.jsonl"),
        ("e.jsonl.gz", gzip.compress(JSONL.encode("utf-16")), "jsonl (gzip, utf-16)", "t.jsonl"),
        ("e", JSONL.encode(), "jsonl (no suffix)", "t.jsonl"),
        ("e.parquet", JSONL.encode(), "jsonl (named .parquet)", "t.jsonl"),
        ("e.csv", utf16_le(CSV), "csv (utf-16)", "t.csv"),
        ("e.csv", utf16_le(CSV.replace("\n", "\r\n")), "csv (utf-16)", "t.csv"),
        ("e.txt", CSV.encode(), "csv (named .txt)", "t.csv"),
        ("e.txt", JSON.encode(), "json (named .txt)", "t.json"),
        ("e.json", utf16_le(JSON), "json (utf-16)", "t.json"),
    ],
)
def test_a_file_is_read_by_its_content_and_gives_the_records_of_its_plain_utf8_twin(
    tmp_path, name, data, read_as, twin
):
    write(tmp_path / "events" / twin, {"t.jsonl": JSONL, "t.csv": CSV, "t.json": JSON}[twin])
    write(tmp_path / "events" / name, data)
    result, expected = read(tmp_path, f"events/{name}"), read(tmp_path, f"events/{twin}")
    assert result.read_as == read_as
    assert expected.file_error is None and result.file_error is None
    assert len(expected.records) >= 2
    assert [(r.line, r.payload, r.value, r.error, r.rule) for r in result.records] == [
        (r.line, r.payload, r.value, r.error, r.rule) for r in expected.records
    ]


def test_a_parquet_file_named_like_text_is_read_as_parquet(tmp_path):
    write(tmp_path / "events" / "e-2026-10-01.jsonl", parquet_bytes(tmp_path, [event(1), event(2)]))
    result = read(tmp_path, "events/e-2026-10-01.jsonl")
    assert result.read_as == "parquet (named .jsonl)"
    assert [r.value for r in result.records] == [event(1), event(2)]


def test_content_that_no_reader_knows_is_a_clear_file_error(tmp_path):
    write(tmp_path / "events" / "blob", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    write(tmp_path / "events" / "e.parquet.gz", gzip.compress(parquet_bytes(tmp_path, [event(1)])))
    write(tmp_path / "events" / "e.xml", "<event/>\n")
    assert "binary content that is neither Parquet nor gzip" in read(tmp_path, "events/blob").file_error
    assert "gzipped Parquet" in read(tmp_path, "events/e.parquet.gz").file_error
    unsupported = read(tmp_path, "events/e.xml")
    assert "unsupported file type 'e.xml'" in unsupported.file_error and unsupported.read_as == "unsupported"


def test_a_cut_utf16_file_keeps_its_records_and_rejects_its_tail(tmp_path):
    data = codecs.BOM_UTF16_LE + jsonl(event(1), event(2)).encode("utf-16-le")
    write(tmp_path / "events" / "e.jsonl", data + b"{")  # half a code unit
    result = read(tmp_path, "events/e.jsonl")
    assert [r.value for r in result.records] == [event(1), event(2)]
    assert "after record 2" in result.file_error


# 4. CSV headers


def test_a_csv_without_a_header_row_is_a_file_error_when_the_fields_are_known(tmp_path):
    write(tmp_path / "events" / "e.csv", "e1,2026-10-01T11:00:01Z,a1,click\ne2,2026-10-01T11:00:02Z,a1,click\n")
    result = read(tmp_path, "events/e.csv", known_fields=known("events"))
    assert result.file_error.startswith("no header row") and result.records == []
    assert len(read(tmp_path, "events/e.csv").records) == 1  # without the fields, the first row is taken as header


def test_a_csv_with_a_repeated_column_name_is_a_file_error_naming_it(tmp_path):
    write(tmp_path / "events" / "e.csv", "event_id,ts,anonymous_id,event_type,ts\ne1,2026,a1,click,2027\n")
    write(tmp_path / "events" / "f.csv", "event_id,TS,anonymous_id,event_type,ts \ne1,2026,a1,click,2027\n")
    for name in ("e.csv", "f.csv"):
        result = read(tmp_path, f"events/{name}", known_fields=known("events"))
        assert result.file_error == "duplicated column names in the header: 'ts' (columns 2, 5)"
        assert result.records == []
    assert "'ts' (columns 2, 5)" in read(tmp_path, "events/e.csv").file_error


def test_header_names_are_stripped_and_matched_to_a_field_ignoring_case_when_unambiguous(tmp_path):
    write(tmp_path / "events" / "e.csv", " Event_ID ,TS,anonymous_id ,EVENT_TYPE, Extra \ne1,t,a1,click,x\n")
    [record] = read(tmp_path, "events/e.csv", known_fields=known("events")).records
    assert record.value == {"event_id": "e1", "ts": "t", "anonymous_id": "a1", "event_type": "click", "Extra": "x"}
    write(tmp_path / "events" / "f.csv", "Id,name\n1,n\n")
    [record] = read(tmp_path, "events/f.csv", known_fields=frozenset({"id", "ID", "name"})).records
    assert record.value == {"Id": "1", "name": "n"}


def test_every_corpus_csv_reads_the_same_with_its_sources_fields(tmp_path):
    for path in sorted(CORPUS.glob("*/*.csv")):
        write(tmp_path / path.parent.name / path.name, path.read_bytes())
    for file in (f for f in discover(tmp_path) if f.relative.endswith(".csv")):
        with_fields, without = read_file(file, known_fields=known(file.source)), read_file(file)
        assert with_fields.file_error == without.file_error, file.relative
        assert summary(with_fields) == summary(without), file.relative


# 5. Bounded memory


def gzip_with_a_huge_line(path: Path, before: bytes, after: bytes, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb", compresslevel=1) as handle:
        handle.write(before)
        for _ in range(size // MIB):
            handle.write(b"x" * MIB)
        handle.write(after)
    return path


@pytest.mark.parametrize(
    ("name", "before", "after", "first"),
    [
        ("e.jsonl.gz", jsonl(event(1)).encode() + b'{"event_id": "', b'"}\n' + jsonl(event(2)).encode(), 1),
        ("e.csv.gz", b"event_id,ts\ne1,t1\ne-huge,", b"\ne2,t2\n", 2),
    ],
)
def test_a_64mib_line_in_a_small_gzip_is_one_rejected_record_read_in_bounded_memory(
    tmp_path, name, before, after, first
):
    gzip_with_a_huge_line(tmp_path / "events" / name, before, after, 64 * MIB)
    assert (tmp_path / "events" / name).stat().st_size < MIB
    file = the_file(tmp_path, f"events/{name}")
    result, peak = peak_bytes(lambda: read_file(file, max_line_bytes=MIB))
    assert peak < 3 * MIB
    assert result.file_error is None
    good, huge, last = result.records
    assert (huge.line, huge.rule, huge.error) == (
        first + 1,
        "line_too_long",
        f"line longer than {MIB} bytes (not read)",
    )
    assert huge.value is None and len(huge.payload) <= 1000
    assert huge.payload.startswith(before.decode().split("\n")[-1] + "xxx")
    assert (good.line, last.line) == (first, first + 2) and good.error is None and last.error is None


@pytest.mark.parametrize("filler", ["x", "é"])
@pytest.mark.parametrize(
    ("kind", "ending"), [("jsonl", "\n"), ("jsonl", "\r\n"), ("csv", "\n"), ("csv", "\r\n"), ("csv", "\r")]
)
def test_the_line_limit_counts_the_bytes_of_a_line_without_its_ending(tmp_path, kind, ending, filler):
    prefix, suffix = ('{"event_id": "', '"}') if kind == "jsonl" else ("", ",ts")

    def line(size: int) -> str:
        fill = size - len(prefix + suffix)
        return prefix + filler * (fill // len(filler.encode())) + "x" * (fill % len(filler.encode())) + suffix

    limit = 101
    lines = [line(limit), line(limit + 1), line(limit), line(3 * limit), line(limit)]
    assert [len(x.encode()) for x in lines] == [limit, limit + 1, limit, 3 * limit, limit]
    header = "event_id,ts" + ending if kind == "csv" else ""
    write(tmp_path / "events" / f"e.{kind}", header + "".join(x + ending for x in lines))
    result = read(tmp_path, f"events/e.{kind}", max_line_bytes=limit)
    first = 2 if kind == "csv" else 1
    assert [(r.line, r.rule if r.error else "ok") for r in result.records] == [
        (first, "ok"),
        (first + 1, "line_too_long"),
        (first + 2, "ok"),
        (first + 3, "line_too_long"),
        (first + 4, "ok"),
    ]


def test_a_json_array_file_larger_than_the_limit_is_a_file_error_suggesting_json_lines(tmp_path):
    path = tmp_path / "events" / "e.json.gz"
    path.parent.mkdir(parents=True)
    with gzip.open(path, "wt", compresslevel=1) as handle:
        handle.write("[" + ", ".join(json.dumps(event(i % 60)) for i in range(100_000)) + "]")
    file = the_file(tmp_path, "events/e.json.gz")
    result, peak = peak_bytes(lambda: read_file(file, max_line_bytes=MIB))
    assert peak < 3 * MIB
    assert "JSON Lines" in result.file_error and result.records == []
    assert len(read_file(file, max_line_bytes=16 * MIB).records) == 100_000


def test_an_unclosed_csv_quote_does_not_make_the_rest_of_the_file_one_cell(tmp_path):
    rows = "".join(f"e{i},t{i}\n" for i in range(1_600_000))  # 24 MiB
    write(tmp_path / "events" / "e.csv", 'event_id,ts\ne1,t1\ne2,"t2\n' + rows)
    file = the_file(tmp_path, "events/e.csv")
    result, peak = peak_bytes(lambda: read_file(file, max_line_bytes=MIB))
    assert peak < 6 * MIB  # csv holds a cell as 4-byte characters; unbounded, this one would be 24 MiB of them
    assert [r.value for r in result.records] == [{"event_id": "e1", "ts": "t1"}]
    assert "after record 2" in result.file_error and "unclosed quote" in result.file_error


def test_a_hostile_csv_header_does_not_stall_the_delimiter_sniffer(tmp_path):
    write(tmp_path / "events" / "e.csv", ',"a' * 20_000 + "\ne1\n")  # 40 s for csv.Sniffer on the whole line
    file = the_file(tmp_path, "events/e.csv")
    started = time.perf_counter()
    result = read_file(file, known_fields=known("events"))
    assert time.perf_counter() - started < 5
    assert result.file_error == "duplicated column names in the header: 'a,a' (columns 2, 3, 4, 5, 6, ...)"


def test_parquet_is_read_row_group_by_row_group_and_keeps_the_rows_before_a_damaged_one(tmp_path):
    path = tmp_path / "events" / "e-2026-10-01.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([event(i % 60) for i in range(300)]), path, row_group_size=100)
    metadata = pq.ParquetFile(path).metadata

    def start(group: int) -> int:
        column = metadata.row_group(group).column(0)
        return column.dictionary_page_offset or column.data_page_offset

    data = bytearray(path.read_bytes())
    data[start(1) : start(2)] = b"\xff" * (start(2) - start(1))
    path.write_bytes(bytes(data))
    result = read(tmp_path, "events/e-2026-10-01.parquet")
    assert [r.line for r in result.records] == list(range(1, 101))
    assert "after record 100" in result.file_error


# 6. Record-level rules


def test_a_key_repeated_in_a_json_object_at_any_depth_rejects_its_record_with_rule_duplicate_key(tmp_path):
    lines = [
        json.dumps(event(1)),
        '{"event_id": "e2", "consent_analytics": false, "consent_analytics": true}',
        '{"event_id": "e3", "properties": {"items": [{"sku": 1, "sku": 2}]}}',
        '{"event_id": "e4", "properties": {"sku": 1, "SKU": 2}}',
    ]
    write(tmp_path / "events" / "e.jsonl", "\n".join(lines) + "\n")
    write(tmp_path / "events" / "f.json", "[\n" + ",\n".join(lines) + "\n]")
    for name in ("e.jsonl", "f.json"):
        result = read(tmp_path, f"events/{name}")
        assert [(r.line, r.rule) for r in result.records if r.error] == [(2, "duplicate_key"), (3, "duplicate_key")]
        assert "'consent_analytics'" in result.records[1].error and "'sku'" in result.records[2].error
        assert [r.value["event_id"] for r in result.records if not r.error] == ["e1", "e4"]
    assert read(tmp_path, "events/f.json").records[1].payload == lines[1]
    with pytest.raises(JsonRuleError, match="duplicate key 'a'") as raised:
        parse_json('[{"a": 1, "a": 1}]')
    assert raised.value.rule == "duplicate_key"


def test_nan_and_infinity_are_not_json_and_reject_their_record_with_rule_non_finite_number(tmp_path):
    lines = [
        '{"event_id": "e1", "x": NaN}',
        '{"event_id": "e2", "x": Infinity}',
        '{"event_id": "e3", "properties": {"y": [-Infinity]}}',
        '{"event_id": "e4", "page": "NaN", "x": 1e308}',
    ]
    write(tmp_path / "events" / "e.jsonl", "\n".join(lines) + "\n")
    write(tmp_path / "events" / "f.json", "[" + ", ".join(lines) + "]")
    for name in ("e.jsonl", "f.json"):
        result = read(tmp_path, f"events/{name}")
        assert [r.rule for r in result.records if r.error] == ["non_finite_number"] * 3
        assert [r.error for r in result.records[:3]] == [
            "NaN is not a JSON number (RFC 8259)",
            "Infinity is not a JSON number (RFC 8259)",
            "-Infinity is not a JSON number (RFC 8259)",
        ]
        assert result.records[3].value == {"event_id": "e4", "page": "NaN", "x": 1e308}
    with pytest.raises(JsonRuleError) as raised:
        parse_json('{"turns": [{"score": NaN}]}')
    assert raised.value.rule == "non_finite_number"


def test_a_parquet_nan_is_a_value_for_the_validator_not_a_parse_error(tmp_path):
    path = tmp_path / "events" / "e.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.table({"event_id": ["e1", "e2", "e3"], "x": [math.nan, math.inf, 1.0]}), path)
    result = read(tmp_path, "events/e.parquet")
    assert [r.error for r in result.records] == [None, None, None]
    assert math.isnan(result.records[0].value["x"]) and result.records[1].value["x"] == math.inf


def test_other_bad_records_keep_the_unparseable_record_rule(tmp_path):
    write(tmp_path / "events" / "e.jsonl", b'{"event_id": \n{"event_id": "\xff"}\n[1, 2\n')
    result = read(tmp_path, "events/e.jsonl")
    assert [(r.line, r.rule) for r in result.records] == [(n, "unparseable_record") for n in (1, 2, 3)]
    assert all(r.error for r in result.records)


# 7. CSV cells stay text


def test_csv_cells_stay_strings_for_the_validator(tmp_path):
    write(tmp_path / "events" / "e.csv", "event_id,ts,x,consent,empty\n12,1790852400,3.0,true,\n")
    [record] = read(tmp_path, "events/e.csv", known_fields=known("events")).records
    assert record.value == {"event_id": "12", "ts": "1790852400", "x": "3.0", "consent": "true", "empty": ""}
