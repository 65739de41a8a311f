"""Erasure: remove customers from the working and the published file, and keep them out of every later run.

A customer's rows are those `customer_records` names: their customer_key, the devices (anonymous_key) they used,
their conversations (and the journeys and alerts about them) and sessions; quarantine rows also by their
customer_key and by payloads that hold the customer's or a device's id as a JSON string or a CSV cell.
`audit.erasures` records each erasure by pseudonym only; ingest reads it and drops the customers' records, since
the landing files still hold them.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import shutil
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import pyarrow as pa

from cx_signals.db import (
    belongs_to,
    ensure_published_schema,
    ensure_schema,
    id_columns,
    insert_rows,
    replace_file,
    staging_path,
    table_columns,
)
from cx_signals.ingest import IngestResult
from cx_signals.locking import exclusive_lock
from cx_signals.ml.artefacts import request_retraining
from cx_signals.paths import DatabaseFiles
from cx_signals.privacy import pseudonym, pseudonym_key
from cx_signals.report import build_report
from cx_signals.storage import Storage, connect
from cx_signals.tables import all_tables, published_table, qualified

ERASURES = "audit.erasures"
QUARANTINE = "quarantine.rejects"
_CSV_DELIMITERS = re.compile(r"[,;\t|]")
_JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
# A quarantine row's identity in both files: the published file has no payload to match.
_REJECT_LINE = "md5(concat_ws('|', source, source_file, file_sha256, source_line))"


@dataclass(frozen=True)
class ErasedCustomers:
    """Pseudonyms of the erased customers and of the devices they used, as audit.erasures records them."""

    customer_keys: frozenset[str] = frozenset()
    device_keys: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.customer_keys or self.device_keys)


@dataclass
class Erasure:
    """One erased customer: their pseudonym, their devices', the rows removed per file and table, and the quarantine
    rows their payloads matched (by source, file and line)."""

    customer_key: str
    device_keys: set[str] = field(default_factory=set)
    rows_removed: dict[str, dict[str, int]] = field(default_factory=dict)
    reject_lines: set[str] = field(default_factory=set)


def erased_customers(con: duckdb.DuckDBPyConnection) -> ErasedCustomers:
    """Every customer and device key audit.erasures holds (in the connection's working file)."""
    rows = con.execute(f"SELECT customer_key, anonymous_keys FROM {qualified(ERASURES)}").fetchall()
    devices = {device for _, keys in rows for device in json.loads(keys or "[]")}
    return ErasedCustomers(frozenset(key for key, _ in rows), frozenset(devices))


def payload_values(payload: str | None) -> set[str]:
    """The values of a quarantine payload that can be an id: its JSON strings (also of a payload cut short, which no
    longer parses) and numbers, and its CSV cells (split at , ; tab |, trimmed of spaces and quotes)."""
    if not payload:
        return set()
    values = {cell.strip().strip('"').strip() for cell in _CSV_DELIMITERS.split(payload)}
    for literal in _JSON_STRING.findall(payload):
        try:
            values.add(json.loads(f'"{literal}"').strip())
        except ValueError:
            continue
    try:
        parsed = json.loads(payload)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        values.update(str(v) for v in parsed.values() if isinstance(v, int) and not isinstance(v, bool))
    values.discard("")
    return values


def assign_reject_customer_keys(result: IngestResult, key: bytes, placeholder_ids: Collection[str]) -> None:
    """Set the customer_key of each of an ingest result's quarantine rows (`reject_customer_key` of its payload), a
    page of rows at a time."""
    for page in result.reject_batches():
        keys = pa.table(  # noqa: F841 - in SQL
            {
                "row_id": pa.array([rowid for rowid, _ in page], pa.int64()),
                "customer_key": pa.array(
                    [reject_customer_key(r["payload"], key, placeholder_ids) for _, r in page], pa.string()
                ),
            }
        )
        result.con.execute(
            f"UPDATE {result.rejects_table} SET customer_key = keys.customer_key FROM keys "
            f"WHERE {result.rejects_table}.rowid = keys.row_id"
        )


def reject_customer_key(payload: str | None, key: bytes, placeholder_ids: Collection[str]) -> str | None:
    """The pseudonym of the customer_id of a quarantined record whose payload parses as a JSON object, else None.

    The id is trimmed and a placeholder (ingest.placeholder_ids) is no id, as ingest treats id fields.
    """
    try:
        record = json.loads(payload or "")
    except ValueError:
        return None
    value = record.get("customer_id") if isinstance(record, dict) else None
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    if not text or text.lower() in {p.strip().lower() for p in placeholder_ids}:
        return None
    return pseudonym(text, key)


def drop_erased(result: IngestResult, erased: ErasedCustomers, key: bytes) -> dict[date, int]:
    """Drop from an ingest result the records of erased customers and of their devices (also devices this result
    shows them logged in on), with their turns, events and quarantine rows; return the records dropped per day.

    The result's counts follow, so that read = loaded + quarantined + duplicates + erased.
    """
    dropped: dict[date, int] = defaultdict(int)
    if not erased:
        return dropped
    con, tables = result.con, list(result.staged)
    primary = result.staged[tables[0]]
    columns = {row[0] for row in con.execute(f"DESCRIBE {primary}").fetchall()}
    customers = sorted(erased.customer_keys)
    devices = set(erased.device_keys)
    if {"customer_key", "anonymous_key"} <= columns:
        devices.update(
            device
            for (device,) in con.execute(
                f"SELECT DISTINCT anonymous_key FROM {primary} WHERE customer_key IN (SELECT unnest(?::VARCHAR[]))",
                [customers],
            ).fetchall()
            if device
        )
    matches = ["customer_key IN (SELECT unnest($customers::VARCHAR[]))"]
    parameters: dict[str, Any] = {"customers": customers}
    if "anonymous_key" in columns:
        matches.append("anonymous_key IN (SELECT unnest($devices::VARCHAR[]))")
        parameters["devices"] = sorted(devices)
    conversation = "conversation_id" if "conversation_id" in columns else "NULL"
    gone = con.execute(
        f"DELETE FROM {primary} WHERE {' OR '.join(matches)} RETURNING partition_date, {conversation}", parameters
    ).fetchall()
    for day, _ in gone:
        dropped[day] += 1
        result.counts[day].loaded -= 1
    conversations = sorted({c for _, c in gone if c is not None})
    for table in tables[1:]:  # turns and conversation events follow their conversation
        con.execute(
            f"DELETE FROM {result.staged[table]} WHERE conversation_id IN (SELECT unnest(?::VARCHAR[]))",
            [conversations],
        )
    keys = set(customers) | devices
    for page in result.reject_batches():
        gone_rows = []
        for rowid, reject in page:
            found = {pseudonym(v, key) for v in payload_values(reject["payload"])}
            if reject.get("customer_key") in erased.customer_keys or keys & found:
                gone_rows.append(rowid)
                if reject["source_line"] is not None:  # a file rejected whole is not a record read
                    dropped[reject["partition_date"]] += 1
                    result.counts[reject["partition_date"]].quarantined -= 1
        con.execute(f"DELETE FROM {result.rejects_table} WHERE rowid IN (SELECT unnest(?::BIGINT[]))", [gone_rows])
    return dropped


def _remove_rejects(con: duckdb.DuckDBPyConnection, erasure: Erasure, payload_keys: dict[int, set[str]]) -> int:
    """Delete the quarantine rows whose payload names the customer or one of their devices. A file without payloads
    (the published one) gets the rows the working file matched, found by source, file and line."""
    keys = erasure.device_keys | {erasure.customer_key}
    matched = [rowid for rowid, found in payload_keys.items() if found & keys]
    erasure.reject_lines |= {
        row[0]
        for row in con.execute(
            f"SELECT {_REJECT_LINE} FROM {qualified(QUARANTINE)} WHERE rowid IN (SELECT unnest(?::BIGINT[]))", [matched]
        ).fetchall()
    }
    return con.execute(
        f"DELETE FROM {qualified(QUARANTINE)} WHERE {_REJECT_LINE} IN (SELECT unnest(?::VARCHAR[]))",
        [sorted(erasure.reject_lines)],
    ).fetchone()[0]


def _remove(con: duckdb.DuckDBPyConnection, erasure: Erasure, payload_keys: dict[int, set[str]]) -> dict[str, int]:
    """Delete one customer's rows from every table of the connection's file but audit.erasures (adding their devices
    to `erasure`); return the rows removed per table."""
    con.execute("CREATE OR REPLACE TEMP TABLE _erased AS SELECT * FROM customer_records(?)", [[erasure.customer_key]])
    kinds = id_columns(con, "_erased")
    erasure.device_keys |= {
        row[0] for row in con.execute("SELECT id FROM _erased WHERE id_column = 'anonymous_key'").fetchall()
    }
    removed = {}
    for name in all_tables():
        condition = belongs_to(table_columns(con, name), "_erased", kinds) if name != ERASURES else None
        rows = con.execute(f"DELETE FROM {qualified(name)} WHERE {condition}").fetchone()[0] if condition else 0
        if name == QUARANTINE:
            rows += _remove_rejects(con, erasure, payload_keys)
        if rows:
            removed[name] = rows
    con.execute("DROP TABLE _erased")
    return removed


def _erase_file(con: duckdb.DuckDBPyConnection, erasures: list[Erasure], file: str, key: bytes) -> None:
    """Remove every customer of `erasures` from the connection's file, inside the caller's transaction."""
    payload_keys = {}
    if "payload" in table_columns(con, QUARANTINE):
        payload_keys = {
            rowid: {pseudonym(v, key) for v in payload_values(payload)}
            for rowid, payload in con.execute(f"SELECT rowid, payload FROM {qualified(QUARANTINE)}").fetchall()
        }
    for erasure in erasures:
        erasure.rows_removed[file] = _remove(con, erasure, payload_keys)


def _audit_rows(erasures: list[Erasure], requested_by: str) -> list[dict[str, Any]]:
    erased_at = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    return [
        {
            "erased_at": erased_at,
            "customer_key": e.customer_key,
            "anonymous_keys": json.dumps(sorted(e.device_keys)),
            "rows_removed": json.dumps(e.rows_removed, sort_keys=True),
            "requested_by": requested_by,
        }
        for e in erasures
    ]


def requesting_user() -> str:
    """The operating-system user running this process (its uid when it has no name)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def erase_customers(
    files: DatabaseFiles,
    customer_ids: list[str],
    lock_timeout: float,
    requested_by: str,
    storage: Storage | None = None,
) -> list[Erasure]:
    """Erase `customer_ids` from the working tables (the working file, or the DuckLake `storage` names) and the
    published file, record each in audit.erasures (pseudonym only) and mark the models for retraining; return what
    was removed.

    Holds the run lock, then the write lock, so that it never races a run. The published file is rewritten as a
    copy renamed over it, after the working file committed: a crash in between leaves the working file erased and
    the next run, or the same erasure again, erases the published file. The HTML report is rebuilt from it.
    """
    key = pseudonym_key(files.key_file)
    erasures = [Erasure(pseudonym(i, key)) for i in dict.fromkeys(c.strip() for c in customer_ids) if i]
    if not erasures:
        raise ValueError("no customer id given")
    with exclusive_lock(files.lock("run"), lock_timeout), exclusive_lock(files.lock("write"), lock_timeout):
        with connect(storage or Storage(), files.working) as working:
            ensure_schema(working)
            working.execute("BEGIN TRANSACTION")
            _erase_file(working, erasures, "working", key)
            staging = None
            if files.published.exists():
                staging = staging_path(files.published)
                shutil.copyfile(files.published, staging)
                with duckdb.connect(str(staging)) as published:
                    ensure_published_schema(published)
                    published.execute("BEGIN TRANSACTION")
                    _erase_file(published, erasures, "published", key)
                    rows = _audit_rows(erasures, requested_by)
                    insert_rows(published, published_table(all_tables()[ERASURES]), rows)
                    published.execute("COMMIT")
                    published.execute("CHECKPOINT")
            else:
                rows = _audit_rows(erasures, requested_by)
            insert_rows(working, all_tables()[ERASURES], rows)
            working.execute("COMMIT")
        if staging is not None:
            replace_file(staging, files.published)
            if files.report.exists():  # it lists customer keys too
                build_report(files.published, files.report)
        request_retraining(files.models, f"erasure of {len(erasures)} customer(s) by {requested_by}")
    return erasures
