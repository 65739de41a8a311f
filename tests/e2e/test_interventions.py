"""Interventions measured end to end: generated actions with a planted effect (acting averts half the repeats),
ingested from landing/actions/, and metrics.intervention_effects recovering that effect within its interval."""

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from cx_signals.generate import generate_landing
from tests.conftest import cx

SHARE, SALT = 0.5, "e2e-holdout"  # a larger hold-out than the default 10%, for intervals a test can use
RULE = "friction_before_contact"


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("interventions")
    landing, db, config = root / "landing", root / "cx.duckdb", root / "holdout.yml"
    generate_landing(landing, days=14, customers=2000, seed=21, start=date(2026, 10, 1), holdout=(SHARE, SALT))
    config.write_text(f"interventions: {{holdout_share: {SHARE}, holdout_salt: {SALT}}}\n")
    result = cx("run", "--landing", str(landing), "--db", str(db), "--config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    return landing, db


def test_the_planted_effect_is_recovered_within_its_interval(run):
    landing, db = run
    truth = pl.read_parquet(landing / "_truth" / "interventions.parquet").filter(pl.col("consent_analytics"))
    acted, held = truth.filter(pl.col("acted")), truth.filter(pl.col("held_out"))
    with duckdb.connect(str(db), read_only=True) as con:
        row = (
            con.execute("FROM metrics.intervention_effects WHERE rule = ? ORDER BY partition_date DESC LIMIT 1", [RULE])
            .pl()
            .row(0, named=True)
        )
        alerts = con.execute("SELECT count(*), avg(held_out::INT) FROM signals.friction_alerts").fetchone()
    # the pipeline finds exactly the journeys and repeats the generator planted
    assert (row["acted_journeys"], row["acted_repeats"]) == (acted.height, acted["repeated"].sum())
    assert (row["held_out_journeys"], row["held_out_repeats"]) == (held.height, held["repeated"].sum())
    assert row["held_out_with_action"] == 0
    # the true effect of acting on the acted journeys: their repeats with the action minus without it
    true_effect = acted["repeated"].mean() - acted["would_repeat"].mean()
    assert true_effect < -0.1
    assert row["repeat_rate_difference_low"] <= true_effect <= row["repeat_rate_difference_high"]
    assert row["repeat_rate_difference_high"] < 0, "the effect is told apart from none"
    assert alerts[0] > 100 and abs(alerts[1] - SHARE) < 0.1


def test_alert_rule_precision_and_the_actions_table_are_filled(run):
    _, db = run
    with duckdb.connect(str(db), read_only=True) as con:
        rules = con.execute(
            """SELECT rule, judged_alerts, precision, precision_low, precision_high FROM metrics.alert_rule_precision
            WHERE partition_date = (SELECT max(partition_date) FROM metrics.alert_rule_precision)"""
        ).fetchall()
        actions = con.execute(
            "SELECT count(*), count(actor_key), count(DISTINCT actor_key) FROM raw.actions"
        ).fetchone()
        clear = con.execute(
            "SELECT count(*) FROM duckdb_columns() WHERE table_name = 'actions' AND column_name = 'actor_id'"
        ).fetchone()
    by_rule = {r[0]: r for r in rules}
    assert {"all", RULE} <= set(by_rule)
    for _, judged, precision, low, high in rules:
        if judged:
            assert 0 <= low <= precision + 1e-12 and precision <= high + 1e-12 and high <= 1
    assert by_rule["all"][1] > 50
    assert actions[0] == actions[1] > 20 and actions[2] > 1
    assert clear == (0,), "the operator's clear id stays in the working file"
