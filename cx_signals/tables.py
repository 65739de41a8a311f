"""Table definitions: raw tables derived from the input contracts, public tables from the table contracts."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import yaml

from cx_signals.bundled import project_dir
from cx_signals.contracts import Contract, Field, input_contracts, table_contracts

SCHEMAS = ("raw", "signals", "metrics", "quarantine", "audit")
PARTITION_COLUMN = "partition_date"


@dataclass(frozen=True)
class Column:
    """A table column: name, DuckDB type and its comment."""

    name: str
    type: str
    description: str


@dataclass(frozen=True)
class Table:
    """A table: qualified name, columns, grain and the contract fields behind its checks."""

    name: str
    description: str
    columns: tuple[Column, ...]
    checks: tuple[Field, ...]
    primary_key: tuple[str, ...]

    @property
    def column_names(self) -> list[str]:
        """Column names in order."""
        return [c.name for c in self.columns]


def key_column(field: Field) -> str:
    """Name of the pseudonym column for an identifier field: customer_id -> customer_key."""
    return field.name.removesuffix("_id") + "_key"


def _field_columns(fields: tuple[Field, ...]) -> list[Column]:
    columns = []
    for f in fields:
        if f.type == "list":
            continue
        columns.append(Column(f.name, f.duckdb_type, f.description))
        if f.pii == "identifier":
            columns.append(Column(key_column(f), "VARCHAR", f"Keyed pseudonym (HMAC) of {f.name}."))
    return columns


_PARTITION = Column(PARTITION_COLUMN, "DATE", "Daily (UTC) partition the row belongs to.")
_LINEAGE = (
    Column(
        "source_file", "VARCHAR", "Landing file the record came from, relative to the landing root; PII in it redacted."
    ),
    Column("source_line", "BIGINT", "1-based line or row of the record in its file."),
)
_TS_CLAMPED = Column(
    "ts_clamped",
    "BOOLEAN",
    "The source's time was outside the conversation [started_at, ended_at] and was clamped into it.",
)


def _raw_tables(contracts: dict[str, Contract]) -> dict[str, Table]:
    transcripts, telemetry, events = contracts["transcripts"], contracts["telemetry"], contracts["events"]
    turn_fields, event_fields = transcripts.items["turn"], transcripts.items["conversation_event"]
    conversation_id = Column("conversation_id", "VARCHAR", "Conversation the row belongs to.")

    def checks(fields: tuple[Field, ...]) -> tuple[Field, ...]:
        return tuple(f for f in fields if f.type != "list")

    tables = {
        "raw.conversations": Table(
            "raw.conversations",
            transcripts.description,
            (
                _PARTITION,
                *_field_columns(transcripts.fields),
                Column("n_turns", "BIGINT", "Number of turns."),
                Column("clamped_times", "BIGINT", "Turns and events whose time was clamped into it (ts_clamped)."),
                *_LINEAGE,
            ),
            checks(transcripts.fields),
            ("conversation_id",),
        ),
        "raw.turns": Table(
            "raw.turns",
            "One row per turn of a conversation, in time order, text PII-redacted.",
            (
                _PARTITION,
                conversation_id,
                Column("turn_index", "BIGINT", "0-based position of the turn in its conversation, by time."),
                *_field_columns(turn_fields),
                _TS_CLAMPED,
                Column("pii_redactions", "BIGINT", "Number of PII strings replaced by typed placeholders."),
            ),
            (*checks(turn_fields),),
            ("conversation_id", "turn_index"),
        ),
        "raw.conversation_events": Table(
            "raw.conversation_events",
            "Handoffs, transfers and holds within conversations.",
            (
                _PARTITION,
                conversation_id,
                Column("event_index", "BIGINT", "0-based position of the event in its conversation, by time."),
                *_field_columns(event_fields),
                _TS_CLAMPED,
            ),
            checks(event_fields),
            ("conversation_id", "event_index"),
        ),
        "raw.telemetry": Table(
            "raw.telemetry",
            telemetry.description,
            (
                _PARTITION,
                Column("record_key", "VARCHAR", "Content hash of the record, its identity for deduplication."),
                *_field_columns(telemetry.fields),
                *_LINEAGE,
            ),
            checks(telemetry.fields),
            ("record_key",),
        ),
        "raw.events": Table(
            "raw.events",
            events.description,
            (_PARTITION, *_field_columns(events.fields), *_LINEAGE),
            checks(events.fields),
            ("event_id",),
        ),
    }
    # any other source is one table of its records, keyed by its record id (e.g. raw.actions)
    for contract in contracts.values():
        for name in contract.raw_tables:
            if name not in tables:
                columns = (_PARTITION, *_field_columns(contract.fields), *_LINEAGE)
                key = (contract.record_id,) if contract.record_id else ()
                tables[name] = Table(name, contract.description, columns, checks(contract.fields), key)
    return tables


def _public_table(contract: Contract) -> Table:
    columns = tuple(Column(f.name, f.duckdb_type, f.description) for f in contract.fields)
    description = contract.description + (f" Grain: {contract.grain}." if contract.grain else "")
    return Table(contract.table or contract.name, description, columns, contract.fields, contract.primary_key)


@cache
def all_tables() -> dict[str, Table]:
    """Every table the pipeline writes, by qualified name."""
    tables = _raw_tables(input_contracts())
    tables.update({name: _public_table(c) for name, c in table_contracts().items()})
    return tables


@cache
def _unpublished() -> dict[str, frozenset[str] | None]:
    """`published: false` marks of the table contracts: None for a whole table, else the marked fields' names.

    Read from the YAML here because cx_signals.contracts does not keep the flag.
    """
    marks: dict[str, frozenset[str] | None] = {}
    for path in sorted((project_dir("data_contracts") / "tables").glob("*.yml")):
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        name = raw.get("table") or raw["name"]
        if raw.get("published") is False:
            marks[name] = None
        else:
            marks[name] = frozenset(f["name"] for f in raw.get("fields") or [] if f.get("published") is False)
    return marks


def published_table(table: Table) -> Table | None:
    """The variant of `table` in the analysts' file, or None for a table kept in the working file only.

    It drops the clear value of every `pii: identifier` field (its *_key pseudonym stays) and every field marked
    `published: false` in its contract.
    """
    marked = _unpublished().get(table.name, frozenset())
    if marked is None:
        return None
    hidden = marked | {f.name for f in table.checks if f.pii == "identifier"}
    return Table(
        table.name,
        table.description,
        tuple(c for c in table.columns if c.name not in hidden),
        tuple(f for f in table.checks if f.name not in hidden),
        table.primary_key,
    )


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def qualified(name: str) -> str:
    """Quote a `schema.table` name for SQL."""
    schema, table = name.split(".")
    return f"{_quote(schema)}.{_quote(table)}"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def create_statement(table: Table) -> str:
    """CREATE TABLE IF NOT EXISTS for `table`, in both DuckDB and DuckLake.

    Columns and types only: DuckLake has no PRIMARY KEY, UNIQUE or index, so `primary_key` is enforced by the
    contract checks (cx_signals/quality.py) and by writes that replace whole partitions, not by the table.
    """
    columns = ",\n  ".join(f"{_quote(c.name)} {c.type}" for c in table.columns)
    return f"CREATE TABLE IF NOT EXISTS {qualified(table.name)} (\n  {columns}\n)"


def partition_statement(table: Table) -> str:
    """DuckLake only: partition `table`'s Parquet files by day, so that replacing or expiring a day touches only
    that day's files."""
    return f"ALTER TABLE {qualified(table.name)} SET PARTITIONED BY ({_quote(PARTITION_COLUMN)})"


def add_column_statement(table: Table, column: Column) -> str:
    """ALTER TABLE ... ADD COLUMN for a column a newer contract added."""
    return f"ALTER TABLE {qualified(table.name)} ADD COLUMN {_quote(column.name)} {column.type}"


def comment_statements(table: Table) -> list[str]:
    """COMMENT ON statements giving the table and each column its contract description."""
    return [
        f"COMMENT ON TABLE {qualified(table.name)} IS {_literal(table.description)}",
        *(
            f"COMMENT ON COLUMN {qualified(table.name)}.{_quote(c.name)} IS {_literal(c.description)}"
            for c in table.columns
        ),
    ]
