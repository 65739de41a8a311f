"""A model that cannot train or score never takes the run down, and a backfill touches only its days."""

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

import dagster_defs.assets.models as model_assets
from cx_signals.config import load_config
from cx_signals.generate import generate_landing
from cx_signals.paths import database_files
from dagster_defs.runner import run_pipeline

FIRST = date(2026, 10, 1)
DAYS = [FIRST + timedelta(days=n) for n in range(5)]


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("landing")
    generate_landing(out, days=len(DAYS), customers=300, seed=4, start=FIRST)  # enough 1-day repeats to train
    return out


def notes(db: Path, asset: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "SELECT partition_date, note FROM audit.runs WHERE asset = ? AND note IS NOT NULL ORDER BY 1", [asset]
        ).fetchall()


def test_a_model_that_cannot_score_a_day_writes_nothing_for_it_and_the_run_publishes(landing, tmp_path, monkeypatch):
    def empty_day(*args, **kwargs):
        raise ValueError("Found array with 0 sample(s) (shape=(0, 9)) while a minimum of 1 is required")

    monkeypatch.setattr(model_assets, "repeat_risk_table", empty_day)
    db = tmp_path / "cx.duckdb"
    # min_labels: so that five small days train a risk model, which then fails to score
    config = load_config().merged({"models": {"min_labels": 10}, "outcomes": {"repeat_window_days": 1}})
    outcome = run_pipeline(landing, db, DAYS, config)
    assert outcome.success, outcome.error
    assert db.exists() and database_files(db).report.exists()
    skipped = notes(db, "metrics.repeat_risk")
    assert [day for day, _ in skipped] == DAYS
    assert all("not scored: ValueError: Found array with 0 sample(s)" in note for _, note in skipped), skipped
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM metrics.repeat_risk").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM metrics.contact_outcomes").fetchone()[0] > 0


def test_a_model_that_cannot_train_is_recorded_and_its_scores_are_skipped(landing, tmp_path, monkeypatch):
    def one_class(*args, **kwargs):
        raise ValueError("This solver needs samples of at least 2 classes in the data")

    monkeypatch.setattr(model_assets, "train_csat_model", one_class)
    db = tmp_path / "cx.duckdb"
    outcome = run_pipeline(landing, db, DAYS, load_config())
    assert outcome.success, outcome.error
    (trained,) = notes(db, "models.csat_model")
    assert trained[0] == DAYS[-1] and "not trained: ValueError: This solver needs samples" in trained[1]
    assert all("no CSAT model" in note for _, note in notes(db, "signals.csat_predictions"))
    assert not list(database_files(db).models.glob("csat-model-*"))


def day_checksums(db: Path) -> dict[tuple[str, date], str]:
    """Per table and partition: row count and an order-independent hash of every row."""
    found: dict[tuple[str, date], str] = {}
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute(
            "SELECT DISTINCT schema_name || '.' || table_name FROM duckdb_columns() "
            "WHERE schema_name IN ('raw', 'signals', 'metrics', 'quarantine') AND column_name = 'partition_date'"
        ).fetchall()
        for (table,) in tables:
            for day, n, digest in con.execute(
                f"SELECT partition_date, count(*), sum(hash(t)::HUGEINT) FROM {table} AS t GROUP BY 1"
            ).fetchall():
                found[(table, day)] = f"{n}:{digest}"
    return found


def test_a_backfill_of_two_days_leaves_every_other_day_bit_identical_and_keeps_the_models(landing, tmp_path):
    db = tmp_path / "cx.duckdb"
    assert run_pipeline(landing, db, DAYS, load_config()).success
    before = day_checksums(db)
    models_before = sorted(p.name for p in database_files(db).models.iterdir())
    assert any(name.startswith("intent-model-") for name in models_before)

    assert run_pipeline(landing, db, DAYS[1:3], load_config()).success
    after = day_checksums(db)
    assert sorted(p.name for p in database_files(db).models.iterdir()) == models_before  # nothing retrained
    changed = sorted({key for key in before.keys() | after.keys() if before.get(key) != after.get(key)})
    assert changed == []  # the two days re-scored with the same model versions, every other day untouched
    assert {day for _, day in after} == set(DAYS)


def test_ignored_landing_paths_are_listed_in_the_audit(landing, tmp_path):
    copy = tmp_path / "landing"
    shutil.copytree(landing, copy)
    (copy / "events" / "_temporary" / "0").mkdir(parents=True)
    (copy / "events" / "_temporary" / "0" / "part-0.jsonl").write_text("{}\n")
    (copy / "notes.txt").write_text("not a landing file")
    db = tmp_path / "cx.duckdb"
    assert run_pipeline(copy, db, DAYS[:1], load_config()).success
    with duckdb.connect(str(db), read_only=True) as con:
        (listed,) = con.execute("SELECT DISTINCT ignored_paths FROM audit.runs WHERE asset = 'raw.events'").fetchone()
    paths = {entry["path"]: entry["reason"] for entry in json.loads(listed)}
    assert "Spark/Hadoop" in paths["events/_temporary/"] and "not under a source folder" in paths["notes.txt"]
