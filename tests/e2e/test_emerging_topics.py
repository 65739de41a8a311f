"""Emerging topics and next issues through `cx-signals run`: generated data whose `password_reset` contacts lost their
labels, so that the intent model never learns that intent and the discovery must find it."""

import gzip
import json
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from tests.conftest import cx

HIDDEN = "password_reset"


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    landing = tmp_path_factory.mktemp("topics") / "landing"
    result = cx("generate", "--out", str(landing), "--days", "10", "--customers", "600", "--seed", "5")
    assert result.returncode == 0, result.stderr
    truth: dict[str, str] = {}
    for path in sorted((landing / "transcripts").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            records = [json.loads(line) for line in handle]
        for record in records:
            truth[record["conversation_id"]] = record["intent"]
            if record["intent"] == HIDDEN:
                del record["intent"]
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.writelines(json.dumps(r) + "\n" for r in records)
    db = landing.parent / "cx.duckdb"
    result = cx("run", "--landing", str(landing), "--db", str(db))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return db, truth


def test_the_unlearned_intent_surfaces_as_one_pure_topic_that_keeps_its_id(run) -> None:
    db, truth = run
    with duckdb.connect(str(db), read_only=True) as con:
        last = con.execute("SELECT max(partition_date) FROM signals.emerging_topics").fetchone()[0]
        topics = con.execute(
            "SELECT topic_id, label, size, first_seen FROM signals.emerging_topics WHERE partition_date = ?"
            " ORDER BY size DESC",
            [last],
        ).fetchall()
        members = con.execute(
            "SELECT topic_id, conversation_id FROM signals.emerging_topic_contacts WHERE partition_date = ?", [last]
        ).fetchall()
        top_id, label, size, first_seen = topics[0]
        days_listed = con.execute(
            "SELECT count(*) FROM signals.emerging_topics WHERE topic_id = ?", [top_id]
        ).fetchone()[0]
        listed = con.execute(
            "SELECT count(*) FROM metrics.journey_priorities WHERE kind = 'emerging_topic' AND partition_date = ?",
            [last],
        ).fetchone()[0]
    behind = Counter(truth[c] for t, c in members if t == top_id)
    purity = behind[HIDDEN] / sum(behind.values())
    hidden_total = sum(intent == HIDDEN for intent in truth.values())
    print(f"\n{len(topics)} topic(s) on {last}; the largest, {label!r}: {dict(behind)}, purity {purity:.2f}")
    assert purity >= 0.8
    assert behind[HIDDEN] >= 0.5 * hidden_total  # most of the hidden intent's contacts (10 days < two weeks)
    assert "password" in label and size > 0
    # found from its first day to the last under the same id (matched day to day), from early on
    assert days_listed == (last - first_seen).days + 1 >= 5
    assert listed == len(topics)


def test_next_issues_and_transitions_are_published(run) -> None:
    db, _ = run
    with duckdb.connect(str(db), read_only=True) as con:
        contacts, next_issues = con.execute(
            "SELECT sum(contacts), sum(next_issue_contacts) FROM metrics.next_issues"
        ).fetchone()
        rates = con.execute(
            "SELECT max(abs(s - r)) FROM (SELECT t.partition_date, t.from_intent, sum(t.share_of_next_issues) AS s,"
            " 1.0 AS r FROM metrics.intent_transitions AS t GROUP BY ALL)"
        ).fetchone()[0]
    assert 0 < next_issues < contacts
    assert rates == pytest.approx(0.0, abs=1e-9)  # each from-intent's shares of next issues sum to 1
