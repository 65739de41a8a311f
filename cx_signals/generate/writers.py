"""Output: the scratch spool shards write to by UTC day, and the writer of one day's landing and truth files."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cx_signals.generate.truth import (
    CONVERSATION_REFS,
    TRUTH_CONVERSATIONS_SCHEMA,
    TRUTH_PII_SCHEMA,
    TRUTH_SESSIONS_SCHEMA,
)
from cx_signals.generate.values import iso

TELEMETRY_FIELDS = ("ts", "customer_id", "anonymous_id", "session_id", "app", "kind", "name", "status_code",
                    "duration_ms", "message", "severity", "app_version")  # fmt: skip
Edit = Callable[[str, int, pa.Table], pa.Table]
_SEVERITY = {"error": "error", "crash": "fatal"}  # the log severity an app's error and crash reports carry


def telemetry_line(row: tuple[Any, ...]) -> str:
    """One telemetry record as a JSON line; `row` holds every field but the severity, which follows from the kind."""
    record = dict(zip(TELEMETRY_FIELDS, (iso(row[0]), *row[1:10], _SEVERITY.get(row[5]), *row[10:]), strict=True))
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


EVENTS_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("customer_id", pa.string()),
        ("anonymous_id", pa.string()),
        ("session_id", pa.string()),
        ("event_type", pa.string()),
        ("page", pa.string()),
        ("target", pa.string()),
        ("x", pa.int32()),
        ("y", pa.int32()),
        ("properties", pa.string()),
        ("element_tag", pa.string()),
        ("element_type", pa.string()),
        ("element_role", pa.string()),
        ("element_text", pa.string()),
        ("app_version", pa.string()),
    ]
)


def _with_serials(schema: pa.Schema) -> pa.Schema:
    for name in CONVERSATION_REFS:
        if name in schema.names:
            schema = schema.set(schema.get_field_index(name), pa.field(name, pa.int64()))
    return schema


SPOOL_SCHEMAS = {
    "transcripts": pa.schema([("conversation_id", pa.int64()), ("tail", pa.string())]),
    "telemetry": pa.schema([("ts", pa.int64()), ("line", pa.string())]),
    "events": EVENTS_SCHEMA,
    "truth_conversations": _with_serials(TRUTH_CONVERSATIONS_SCHEMA),
    "truth_sessions": TRUTH_SESSIONS_SCHEMA,
    "truth_pii": _with_serials(TRUTH_PII_SCHEMA),
}


class Spool:
    """Scratch Arrow IPC files, one per kind of record and UTC day: shards append, the writers read a day back.

    This is what keeps generation's memory to one shard's or one day's records whatever the history."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.writers: dict[tuple[str, int], pa.ipc.RecordBatchFileWriter] = {}
        self.options = pa.ipc.IpcWriteOptions(compression="lz4")

    def _path(self, kind: str, day: int) -> Path:
        return self.folder / f"{kind}-{day:05d}.arrow"

    def add(self, kind: str, day: int, table: pa.Table) -> None:
        """Append `table` (of the kind's spool schema) to `kind`'s records of 0-based day `day`."""
        writer = self.writers.get((kind, day))
        if writer is None:
            writer = pa.ipc.new_file(self._path(kind, day), SPOOL_SCHEMAS[kind], options=self.options)
            self.writers[kind, day] = writer
        writer.write_table(table)

    def add_rows(self, kind: str, rows: list[tuple[int, dict[str, object]]]) -> None:
        """Append (day, record) pairs, grouped by day."""
        by_day: dict[int, list[dict[str, object]]] = {}
        for day, record in rows:
            by_day.setdefault(day, []).append(record)
        for day, records in sorted(by_day.items()):
            self.add(kind, day, pa.Table.from_pylist(records, schema=SPOOL_SCHEMAS[kind]))

    def close(self) -> None:
        """Finish every file (needed before reading)."""
        for writer in self.writers.values():
            writer.close()

    def read(self, kind: str, day: int) -> pa.Table:
        """All of `kind`'s records of day `day`, in the order they were added."""
        if (kind, day) not in self.writers:
            return SPOOL_SCHEMAS[kind].empty_table()
        with pa.memory_map(str(self._path(kind, day))) as source:
            table = pa.ipc.open_file(source).read_all()
        self._path(kind, day).unlink()
        return table


def _ids(serials: pa.ChunkedArray, numbers: np.ndarray) -> pa.Array:
    """Conversation ids ("CV0000001") of conversation serials (nulls stay null)."""
    return pa.array([None if g is None else f"CV{numbers[g]:07d}" for g in serials.to_pylist()], pa.string())


def _by_conversation(table: pa.Table, numbers: np.ndarray, schema: pa.Schema) -> pa.Table:
    """`table` with its serials replaced by conversation ids, ordered by conversation (stable)."""
    order = np.argsort(numbers[table["conversation_id"].to_numpy()], kind="stable")
    table = table.take(pa.array(order, pa.int64()))
    for name in CONVERSATION_REFS:
        if name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, _ids(table[name], numbers))
    return table.cast(schema)


def write_day(out: Path, spool: Spool, day: int, name: str, numbers: np.ndarray,
               truth: dict[str, pq.ParquetWriter], edit: Edit | None = None) -> None:  # fmt: skip
    """Write UTC day `day` (0-based; `name` is YYYY-MM-DD) of every source, and its truth rows; `edit`, if given,
    changes each spooled table (kind, day, table) before it is written."""
    edit = edit or (lambda _kind, _day, table: table)
    transcripts = edit("transcripts", day, spool.read("transcripts", day))
    serials = transcripts["conversation_id"].to_numpy()
    tails = transcripts["tail"].to_pylist()
    lines = [f'{{"conversation_id":"CV{numbers[serials[i]]:07d}",{tails[i]}\n'
             for i in np.argsort(numbers[serials], kind="stable")]  # fmt: skip
    # mtime=0 and no file name in the gzip header keep the bytes reproducible.
    with (
        open(out / "transcripts" / f"transcripts-{name}.jsonl.gz", "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
    ):
        gz.write("".join(lines).encode())
    del transcripts, tails, lines

    # Stable sorts by timestamp: creation order breaks ties, so each session keeps its own event order.
    telemetry = spool.read("telemetry", day)
    telemetry = telemetry.take(pc.sort_indices(telemetry, [("ts", "ascending")]))
    text = "".join(line + "\n" for line in telemetry["line"].to_pylist())
    (out / "telemetry" / f"telemetry-{name}.jsonl").write_text(text, encoding="utf-8")
    del telemetry, text

    events = spool.read("events", day)
    events = events.take(pc.sort_indices(events, [("ts", "ascending")]))
    pq.write_table(events.combine_chunks(), out / "events" / f"events-{name}.parquet")
    del events

    conversations = edit("truth_conversations", day, spool.read("truth_conversations", day))
    truth["conversations"].write_table(_by_conversation(conversations, numbers, TRUTH_CONVERSATIONS_SCHEMA))
    pii = edit("truth_pii", day, spool.read("truth_pii", day))
    truth["pii"].write_table(_by_conversation(pii, numbers, TRUTH_PII_SCHEMA))
    sessions = spool.read("truth_sessions", day)
    truth["sessions"].write_table(sessions.sort_by([("session_start", "ascending"), ("anonymous_id", "ascending")]))
