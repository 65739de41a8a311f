"""Every example question of docs/questions.md runs on the published file of a generated run, returns the columns
the page lists and at least one row, and the page shows each query's file as it is."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "questions.md"
QUERIES = sorted((ROOT / "sql" / "questions").glob("*.sql"))
# A question: a `## ` heading, a link to its file followed by "returns `a`, `b`, ...:", then the file in a sql fence.
_QUESTION = re.compile(
    r"^## (?P<title>.+?)\n\n\[`(?P<path>[^`]+)`\]\(\.\./(?P=path)\) returns (?P<columns>(?:`\w+`(?:, )?)+):\n\n"
    r"```sql\n(?P<sql>.*?)```\n",
    flags=re.MULTILINE | re.DOTALL,
)


def documented() -> dict[str, dict[str, object]]:
    """{file name: {'title', 'columns', 'sql'}} of every question on the page."""
    text = PAGE.read_text(encoding="utf-8")
    questions = {}
    for match in _QUESTION.finditer(text):
        name = Path(match["path"]).name
        assert name not in questions, f"{name} is on the page twice"
        questions[name] = {
            "title": match["title"],
            "columns": re.findall(r"`(\w+)`", match["columns"]),
            "sql": match["sql"],
        }
    assert text.count("```sql") == len(questions), "a sql block on the page is not a question in the expected layout"
    return questions


def test_the_page_shows_every_query_file_as_it_is() -> None:
    questions = documented()
    assert sorted(questions) == [q.name for q in QUERIES]
    assert len(questions) >= 4
    for query in QUERIES:
        assert questions[query.name]["sql"] == query.read_text(encoding="utf-8"), query.name


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.stem)
def test_question_runs_on_the_published_file(database: Path, query: Path) -> None:
    with duckdb.connect(str(database), read_only=True) as con:
        cursor = con.execute(query.read_text(encoding="utf-8"))
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    assert columns == documented()[query.name]["columns"]
    assert rows, f"{query.name} returned no row on the generated run"
