"""Changing the category rules re-scores history: run, change a rule, `cx-signals rescore` the same days, and the
categories, answers and scores change and carry the new version, while nothing else is recomputed."""

from pathlib import Path

import duckdb
import pytest
import yaml

from cx_signals.categories import default_rules_path, load_rules
from tests.conftest import cx

RESCORED = (
    "signals.conversation_categories",
    "signals.qa_answers",
    "signals.qa_conversation_scores",
    "metrics.qa_scores",
)


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("rescore")
    landing, db = folder / "landing", folder / "cx.duckdb"
    result = cx("generate", "--out", str(landing), "--days", "2", "--customers", "150", "--seed", "5")
    assert result.returncode == 0, result.stderr
    result = cx("run", "--landing", str(landing), "--db", str(db))
    assert result.returncode == 0, result.stdout + result.stderr
    return db


def versions(db: Path) -> dict[str, set[tuple[str, str]]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: set(con.execute(f"SELECT DISTINCT rules_version, rules_hash FROM {t}").fetchall()) for t in RESCORED}


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_changed_rules_rescore_the_days_already_loaded(database, tmp_path):
    original = load_rules()
    assert all(v == {(original.version, original.content_hash)} for v in versions(database).values())
    apologies = (
        "SELECT partition_date, count(*) FILTER (WHERE matched) FROM signals.conversation_categories "
        "WHERE category = 'agent_apology' GROUP BY ALL ORDER BY ALL"
    )
    scores = "SELECT partition_date, agent_key, score_mean FROM metrics.qa_scores ORDER BY ALL"
    signals = "SELECT sum(hash(conversation_id, sentiment_end, n_turns)) FROM signals.conversation_signals"
    before = (query(database, apologies), query(database, scores), query(database, signals))
    runs_before = {r[0] for r in query(database, "SELECT DISTINCT run_id FROM audit.runs")}

    # the agent says "Thanks for waiting" in many greetings: count it as an apology, under a new version
    document = yaml.safe_load(default_rules_path().read_text(encoding="utf-8"))
    document["version"] = "test-2"
    document["categories"]["agent_apology"]["when"]["phrase"]["phrases"].append("thanks for waiting")
    rules_file, config = tmp_path / "rules.yml", tmp_path / "config.yml"
    rules_file.write_text(yaml.safe_dump(document), encoding="utf-8")
    config.write_text(yaml.safe_dump({"categories": {"rules_file": str(rules_file)}}), encoding="utf-8")
    result = cx("rescore", "--db", str(database), "--config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    changed = load_rules(rules_file)
    assert f"rules version test-2 (hash {changed.content_hash[:12]})" in " ".join(result.stdout.split())

    assert all(v == {("test-2", changed.content_hash)} for v in versions(database).values())
    after = (query(database, apologies), query(database, scores), query(database, signals))
    assert [day for day, _ in after[0]] == [day for day, _ in before[0]]
    assert all(new > old for (_, new), (_, old) in zip(after[0], before[0], strict=True))
    assert after[1] != before[1]
    assert after[2] == before[2]
    # the re-score run wrote the four tables only
    rescored_assets = {
        asset
        for asset, run_id in query(database, "SELECT asset, run_id FROM audit.runs")
        if run_id not in runs_before and asset.split(".")[0] in ("raw", "signals", "metrics")
    }
    assert rescored_assets == set(RESCORED)

    # one day back to the bundled rules: only that day changes version
    first_day = before[0][0][0]
    result = cx("rescore", "--db", str(database), "--since", str(first_day), "--until", str(first_day))
    assert result.returncode == 0, result.stdout + result.stderr
    by_day = query(database, "SELECT DISTINCT partition_date, rules_version FROM signals.qa_answers ORDER BY ALL")
    assert by_day == [(first_day, original.version), (before[0][1][0], "test-2")]


def test_bad_rules_are_a_usage_error_before_any_work(database, tmp_path):
    rules_file, config = tmp_path / "rules.yml", tmp_path / "config.yml"
    rules_file.write_text("version: x\ncategories: {a: {when: {signal: {column: nope, op: '>', value: 1}}}}\n")
    config.write_text(yaml.safe_dump({"categories": {"rules_file": str(rules_file)}}), encoding="utf-8")
    result = cx("rescore", "--db", str(database), "--config", str(config))
    assert result.returncode == 2
    assert "categories.a.when.signal.column must be a column of signals.conversation_signals" in result.stderr
