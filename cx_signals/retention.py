"""Retention: `retention.<schema>` days of partitions are kept per schema, counted back from today (UTC).

Older partitions are deleted from every partitioned table of the schema in the working file; the published file,
rebuilt from it, follows. Unpartitioned tables (audit.erasures, audit.consent_refusals) are never deleted by it, so
an erasure or a consent refusal outlives the records it concerns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb

from cx_signals.db import bind, record_audit, sql_text
from cx_signals.tables import PARTITION_COLUMN, all_tables, qualified

AUDIT_PREFIX = "retention:"


@dataclass(frozen=True)
class Removal:
    """Rows retention deleted from one table: how many, from which partitions, under which setting."""

    table: str
    rows: int
    first_day: date
    last_day: date
    first_kept: date
    setting: str

    @property
    def note(self) -> str:
        """The audit note: the setting and the partitions deleted."""
        return f"{self.setting}: deleted partitions {self.first_day} .. {self.last_day} (kept from {self.first_kept})"


def first_kept_days(retention: dict[str, int | None], today: date) -> dict[str, date]:
    """Per schema with a retention setting, the first partition kept: today minus its days."""
    return {schema: today - timedelta(days=int(days)) for schema, days in retention.items() if days is not None}


def enforce_retention(
    con: duckdb.DuckDBPyConnection,
    retention: dict[str, int | None],
    today: date,
    run_id: str,
    code_version: str,
) -> list[Removal]:
    """Delete the partitions before each schema's first kept day from every partitioned table of it and audit each
    table with rows removed in audit.runs (asset retention:<table>, partition today); call inside a transaction."""
    first_kept = first_kept_days(retention, today)
    if "raw" in first_kept:
        sql = sql_text("retention/consent_refusals")
        parameters = {"first_kept": first_kept["raw"], "recorded_at": datetime.now(UTC).replace(tzinfo=None)}
        con.execute(sql, bind(sql, parameters))
    removals = []
    for table in all_tables().values():
        schema = table.name.split(".")[0]
        if schema not in first_kept or PARTITION_COLUMN not in table.column_names:
            continue
        where = f"WHERE {PARTITION_COLUMN} < ?"
        rows, first_day, last_day = con.execute(
            f"SELECT count(*), min({PARTITION_COLUMN}), max({PARTITION_COLUMN}) FROM {qualified(table.name)} {where}",
            [first_kept[schema]],
        ).fetchone()
        if not rows:
            continue
        con.execute(f"DELETE FROM {qualified(table.name)} {where}", [first_kept[schema]])
        setting = f"retention.{schema} = {retention[schema]} days"
        removals.append(Removal(table.name, rows, first_day, last_day, first_kept[schema], setting))
    for removal in removals:
        values: dict[str, Any] = {"rows_written": 0, "rows_removed": removal.rows, "note": removal.note}
        record_audit(con, run_id, AUDIT_PREFIX + removal.table, {today: values}, code_version)
    return removals
