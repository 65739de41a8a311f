"""The data dictionary: every table the pipeline writes and every column, derived from the table definitions.

Built from `cx_signals.tables` (the same `all_tables` and `published_table` that create the database and its
DuckDB comments), so it lists exactly the tables, columns, types and descriptions of the database.
`python -m cx_signals.dictionary` rewrites `docs/data-dictionary.md`; `--check` only compares.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from cx_signals.contracts import Field, input_contracts, table_contracts
from cx_signals.tables import SCHEMAS, Table, all_tables, key_column, published_table

DICTIONARY_PATH = Path(__file__).resolve().parents[1] / "docs" / "data-dictionary.md"
# What ingest does with a value of each PII class (cx_signals.contracts.PII_CLASSES), as the dictionary says it.
_PII_HANDLING = {
    "identifier": "clear id, working file only; its keyed pseudonym is `{key}`",
    "id_text": "kept; replaced by `pii-<keyed pseudonym>` when it contains PII",
    "free_text": "PII-redacted (typed placeholders such as `[EMAIL]`)",
    "json_text": "every string in it PII-redacted",
}
_WORKING_ONLY = "working file only"


@dataclass(frozen=True)
class ColumnDoc:
    """One column as documented: name, DuckDB type, description, PII handling and whether analysts get it."""

    name: str
    type: str
    description: str
    pii: str
    published: bool


@dataclass(frozen=True)
class TableDoc:
    """One table as documented: qualified name, grain, description, primary key, columns, and whether it is
    in the analysts' (published) file."""

    name: str
    grain: str
    description: str
    primary_key: tuple[str, ...]
    published: bool
    columns: tuple[ColumnDoc, ...]

    @property
    def anchor(self) -> str:
        """The Markdown anchor of the table's section (GitHub's heading slug: `raw.turns` -> `rawturns`)."""
        return self.name.replace(".", "")


def _pseudonym_sources() -> dict[str, str]:
    """Pseudonym column name -> the identifier field it is the keyed pseudonym of (customer_key -> customer_id)."""
    sources: dict[str, str] = {}
    for contract in input_contracts().values():
        for fields in (contract.fields, *contract.items.values()):
            sources.update({key_column(f): f.name for f in fields if f.pii == "identifier"})
    return sources


def _pii_handling(name: str, field: Field | None, published: bool, pseudonyms: dict[str, str]) -> str:
    """What happens to the column's personal data: its contract's PII class, a pseudonym, the working file only."""
    parts = []
    if field is not None and field.pii is not None:
        parts.append(_PII_HANDLING[field.pii].format(key=key_column(field)))
    elif name in pseudonyms:
        parts.append(f"keyed pseudonym (HMAC) of `{pseudonyms[name]}`")
    if not published and not any(_WORKING_ONLY in p for p in parts):
        parts.append(_WORKING_ONLY)
    return "; ".join(parts)


def _table_doc(table: Table, pseudonyms: dict[str, str]) -> TableDoc:
    contract = table_contracts().get(table.name)
    public = published_table(table)
    shown = set() if public is None else set(public.column_names)
    fields = {f.name: f for f in table.checks}
    columns = tuple(
        ColumnDoc(
            c.name,
            c.type,
            " ".join(c.description.split()),
            _pii_handling(c.name, fields.get(c.name), c.name in shown, pseudonyms),
            c.name in shown,
        )
        for c in table.columns
    )
    if contract is not None:
        grain, description = contract.grain or "", contract.description
    else:
        grain, description = "one row per " + " × ".join(table.primary_key), table.description
    return TableDoc(table.name, grain, " ".join(description.split()), table.primary_key, public is not None, columns)


def dictionary() -> tuple[TableDoc, ...]:
    """Every table of the working database (`all_tables`), in schema order (raw, signals, metrics, quarantine,
    audit), each with its columns in table order and what of it reaches the analysts' published file."""
    tables = list(all_tables().values())
    ordered = sorted(tables, key=lambda t: (SCHEMAS.index(t.name.split(".")[0]), tables.index(t)))
    pseudonyms = _pseudonym_sources()
    return tuple(_table_doc(t, pseudonyms) for t in ordered)


def _cell(text: str) -> str:
    return text.replace("|", "\\|") if text else "—"


def render(tables: tuple[TableDoc, ...] | None = None) -> str:
    """The Markdown of the data dictionary (`docs/data-dictionary.md`) for `tables` (default: `dictionary()`)."""
    tables = dictionary() if tables is None else tables
    lines = [
        "# Data dictionary",
        "",
        "<!-- Generated from data_contracts/ by `python -m cx_signals.dictionary`: do not edit by hand. -->",
        "",
        "Every table and column the pipeline writes, generated from the contracts in `data_contracts/` (input",
        "contracts for the `raw` tables, table contracts for the others) by `python -m cx_signals.dictionary`, the",
        "same definitions that create the database and its DuckDB comments (`SELECT * FROM duckdb_columns()`).",
        "`tests/unit/test_dictionary.py` fails when this file is out of date and `tests/e2e/test_dictionary_db.py`",
        "when it differs from a database built by a run. Definitions and formulas: [signals](signals.md),",
        "[metrics](metrics.md); example queries: [questions](questions.md).",
        "",
        "Two files: analysts read the **published** file (`--db`, e.g. `cx_data/cx_signals.duckdb`), which holds",
        "no row of a customer who refuses analytics consent and none of the columns or tables marked *working file",
        "only*; the pipeline's private working file (`<db>.d/working.duckdb`) holds everything below.",
        "",
        "| table | grain | published | description |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| [`{t.name}`](#{t.anchor}) | {_cell(t.grain)} | {'yes' if t.published else 'no'} | {_cell(t.description)} |"
        for t in tables
    ]
    for table in tables:
        where = "published and working file" if table.published else "working file only"
        lines += [
            "",
            f"## {table.name}",
            "",
            _cell(table.description),
            "",
            f"Grain: {table.grain}. Primary key: {', '.join(f'`{k}`' for k in table.primary_key) or '—'}. In: {where}.",
            "",
            "| column | type | PII handling | description |",
            "|---|---|---|---|",
        ]
        lines += [f"| `{c.name}` | {c.type} | {_cell(c.pii)} | {_cell(c.description)} |" for c in table.columns]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the data dictionary to `--out` (default docs/data-dictionary.md); with `--check`, write nothing and
    return 1 when the file differs from what the contracts give."""
    parser = argparse.ArgumentParser(prog="python -m cx_signals.dictionary", description=main.__doc__)
    parser.add_argument("--out", type=Path, default=DICTIONARY_PATH, help="file to write or check")
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 when the file is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date: run python -m cx_signals.dictionary", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
