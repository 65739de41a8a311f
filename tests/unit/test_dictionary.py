"""The data dictionary (docs/data-dictionary.md) is the contracts' own, and the committed file is up to date."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from cx_signals.contracts import PII_CLASSES, input_contracts, table_contracts
from cx_signals.db import ensure_published_schema
from cx_signals.dictionary import _PII_HANDLING, DICTIONARY_PATH, ColumnDoc, TableDoc, dictionary, main, render


def documented(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str, str | None]]]:
    """(column, type, comment) per `schema.table` of the connection's database, schema `main` left out."""
    tables: dict[str, list[tuple[str, str, str | None]]] = {}
    for table, column, kind, comment in con.execute(
        "SELECT schema_name || '.' || table_name, column_name, data_type, comment FROM duckdb_columns()"
        " WHERE database_name = current_database() AND schema_name <> 'main' ORDER BY schema_name, table_name,"
        " column_index"
    ).fetchall():
        tables.setdefault(table, []).append((column, kind, comment))
    return tables


def expected(published_only: bool) -> dict[str, list[tuple[str, str, str]]]:
    return {
        t.name: [(c.name, c.type, c.description) for c in t.columns if c.published or not published_only]
        for t in dictionary()
        if t.published or not published_only
    }


def test_committed_file_is_what_the_generator_gives() -> None:
    assert DICTIONARY_PATH.read_text(encoding="utf-8") == render(), "run: python -m cx_signals.dictionary"
    assert main(["--check"]) == 0


def test_check_fails_on_a_stale_or_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "dictionary.md"
    stale.write_text(render().replace("| VARCHAR |", "| TEXT |", 1), encoding="utf-8")
    assert main(["--check", "--out", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert main(["--check", "--out", str(tmp_path / "absent.md")]) == 1
    assert main(["--out", str(stale)]) == 0
    assert main(["--check", "--out", str(stale)]) == 0


def test_every_contract_table_and_field_is_documented() -> None:
    tables = {t.name: t for t in dictionary()}
    for name, contract in table_contracts().items():
        assert tables[name].grain == contract.grain
        assert [c.name for c in tables[name].columns] == [f.name for f in contract.fields]
    raw = [t for t in tables.values() if t.name.startswith("raw.")]
    raw_columns = {c.name for t in raw for c in t.columns}
    for contract in input_contracts().values():
        for fields in (contract.fields, *contract.items.values()):
            assert {f.name for f in fields if f.type != "list"} <= raw_columns, contract.name
    assert len(tables) == len(table_contracts()) + len(raw)


def test_working_schema_matches_the_dictionary(con: duckdb.DuckDBPyConnection) -> None:
    """Tables, columns in order, DuckDB types and column comments of a database created from the definitions."""
    assert documented(con) == expected(published_only=False)


def test_published_schema_matches_the_dictionary() -> None:
    with duckdb.connect() as con:
        ensure_published_schema(con)
        assert documented(con) == expected(published_only=True)


def test_clear_identifiers_never_reach_the_published_file() -> None:
    for table in dictionary():
        for column in table.columns:
            if column.pii.startswith("clear id"):
                assert not column.published, f"{table.name}.{column.name}"
            assert ("working file only" in column.pii) == (not column.published), f"{table.name}.{column.name}"
    identifiers = [c for t in dictionary() for c in t.columns if c.pii.startswith("clear id")]
    assert {c.name for c in identifiers} == {"customer_id", "anonymous_id", "agent_id", "actor_id"}


def test_every_pii_class_has_its_handling_and_every_key_names_its_source() -> None:
    assert set(_PII_HANDLING) == PII_CLASSES
    keys = {c.name: c.pii for t in dictionary() for c in t.columns if c.name.endswith("_key") and c.pii}
    assert keys["customer_key"].startswith("keyed pseudonym (HMAC) of `customer_id`")
    assert keys["agent_key"].startswith("keyed pseudonym (HMAC) of `agent_id`")


def test_render_escapes_pipes_and_links_every_table() -> None:
    column = ColumnDoc("x", "DOUBLE", "distance |dx|+|dy| in px", "", True)
    table = TableDoc("signals.demo", "session", "A | B", ("x",), True, (column,))
    text = render((table,))
    assert r"distance \|dx\|+\|dy\| in px" in text
    assert "| `x` | DOUBLE | — |" in text
    assert "[`signals.demo`](#signalsdemo) | session | yes | A \\| B |" in text
    rows = [line for line in text.splitlines() if line.startswith("| `x`")]
    assert len(re.findall(r"(?<!\\)\|", rows[0])) == 5
    headings = re.findall(r"^## (\S+)$", render(), flags=re.MULTILINE)
    assert headings == [t.name for t in dictionary()]


def defined_columns(markdown: str) -> list[tuple[str, str]]:
    """(table, column) for every backticked name in the first cell of a `column` or `signal` table under a
    `## schema.table ...` heading of `markdown`."""
    found, table, header = [], None, None
    for line in markdown.splitlines():
        if line.startswith("## "):
            match = re.match(r"## (\w+\.\w+)\b", line)
            table, header = (match[1] if match else None), None
        elif line.startswith("|"):
            first = line.strip("|").split("|")[0].strip()
            if header is None:
                header = first
            elif table and header in ("column", "signal") and set(first) != {"-"}:
                found += [(table, name) for name in re.findall(r"`([^`]+)`", first)]
        else:
            header = None
    return found


@pytest.mark.parametrize("page", ["signals.md", "metrics.md"])
def test_the_definition_tables_of_the_docs_name_only_real_columns(page: str) -> None:
    columns = {t.name: {c.name for c in t.columns} for t in dictionary()}
    named = defined_columns((DICTIONARY_PATH.parent / page).read_text(encoding="utf-8"))
    assert len(named) > 20, "the page's definition tables were not found"
    missing = [f"{table}.{column}" for table, column in named if column not in columns.get(table, set())]
    assert not missing, f"docs/{page} defines columns its tables do not have: {missing}"


def test_defined_columns_reads_only_column_tables() -> None:
    page = "\n".join(
        [
            "## signals.demo (turn) — `sql/x.sql`",
            "",
            "| column | definition |",
            "|---|---|",
            "| `a`, `b` | the `c` of it |",
            "",
            "| rule | fires when |",
            "|---|---|",
            "| `not_a_column` | — |",
            "## Predicted CSAT — `signals.demo`",
            "| column | definition |",
            "|---|---|",
            "| `d` | — |",
        ]
    )
    assert defined_columns(page) == [("signals.demo", "a"), ("signals.demo", "b")]
