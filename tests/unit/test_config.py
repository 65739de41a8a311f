import subprocess
import sys

import pytest
import yaml
from pydantic import ValidationError

from cx_signals.config import (
    ConfigError,
    Parameters,
    cost_model_rows,
    default_config_path,
    load_config,
    sql_parameters,
)


def test_an_override_changes_only_what_it_names(tmp_path):
    override = tmp_path / "my.yml"
    override.write_text("outcomes: {repeat_window_days: 3}\ncosts: {agent_cost_per_minute: {voice: 2.5}}\n")
    config = load_config(override)
    defaults = load_config()
    assert config["outcomes"]["repeat_window_days"] == 3
    assert config["outcomes"]["cwq_friction_window_hours"] == defaults["outcomes"]["cwq_friction_window_hours"]
    assert config["costs"]["agent_cost_per_minute"] == {**defaults["costs"]["agent_cost_per_minute"], "voice": 2.5}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("outcomes: {repeat_windw_days: 3}", "unknown parameter 'outcomes.repeat_windw_days'"),
        ("outcomes: 7", "must be a mapping"),
        ("- a list", "must hold a mapping"),
        ("outcomes: {", "cannot read config file"),
        ("freshness: {warn_hours: {events: 0}}", "freshness.warn_hours.events"),
        ("storage: {mode: lake}", "storage.mode"),
    ],
)
def test_a_bad_override_is_a_clear_error(tmp_path, text, message):
    override = tmp_path / "bad.yml"
    override.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(override)


def test_sql_parameters_and_cost_model_come_from_the_config():
    config = load_config()
    parameters = sql_parameters(config)
    assert parameters["outcomes_repeat_window_days"] == config["outcomes"]["repeat_window_days"]
    assert parameters["friction_score_weights_rage_clicks"] == config["friction"]["score_weights"]["rage_clicks"]
    assert parameters["conversation_escalation_patterns"].startswith("(?i)")
    rows = {r["channel"]: r for r in cost_model_rows(config)}
    assert rows["voice"]["written_reply_minutes"] is None and rows["email"]["written_reply_minutes"] > 0
    assert set(rows) == {"chat", "voice", "email", "messaging", "social"}


def test_the_parameters_are_typed_and_read_only():
    config = load_config()
    assert isinstance(config, Parameters)
    assert config.outcomes.repeat_window_days == config["outcomes"]["repeat_window_days"] == 7
    assert type(config.locks.timeout_seconds) is float and type(config.triage.training_days) is int
    assert dict(config.retention) == {"raw": None, "signals": None, "metrics": None, "quarantine": None, "audit": None}
    with pytest.raises(ValidationError, match="frozen"):
        config.outcomes.repeat_window_days = 3
    with pytest.raises(TypeError):
        config["outcomes"]["repeat_window_days"] = 3
    with pytest.raises(KeyError):
        config["outcomes"]["repeat_windw_days"]


def test_every_declared_parameter_has_a_default_and_every_default_is_declared():
    defaults = yaml.safe_load(default_config_path().read_text(encoding="utf-8"))
    dumped = load_config().model_dump()
    assert {(s, n) for s, values in defaults.items() for n in values} == {
        (s, n) for s, values in dumped.items() for n in values
    }
    # the one value whose declared type widens its default's: a lock timeout may be a fraction of a second
    assert dumped == {**defaults, "locks": {"timeout_seconds": float(defaults["locks"]["timeout_seconds"])}}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"outcomes": {"repeat_window_days": "three"}}, r"'outcomes.repeat_window_days' .*integer, got 'three'"),
        ({"outcomes": {"repeat_window_days": 7.0}}, r"'outcomes.repeat_window_days' .*integer"),
        ({"outcomes": {"repeat_window_days": 0}}, r"'outcomes.repeat_window_days' must be greater than or equal to 1"),
        ({"friction": {"score_weights": {"crashes": True}}}, r"'friction.score_weights.crashes' .*number"),
        ({"friction": {"score_weights": {"typing": 1.0}}}, r"unknown parameter 'friction.score_weights.typing'"),
        ({"costs": {"agent_cost_per_minute": {"voice": float("inf")}}}, r"'costs.agent_cost_per_minute.voice'"),
        ({"ingest": {"max_quarantine_share": 1.5}}, r"'ingest.max_quarantine_share' must be less than or equal to 1"),
        ({"sentiment": {"negative_threshold": 0.5}}, r"'sentiment.negative_threshold' must not exceed"),
        ({"alerts": {"rage_then_help_page_regex": "(checkout"}}, r"'alerts.rage_then_help_page_regex' .*regular"),
        ({"conversation": {"effort_patterns": ["ok", 3]}}, r"'conversation.effort_patterns.1'"),
        ({"models": {"training_cron": "0 3 * *"}}, r"'models.training_cron' .*five fields"),
        ({"partitions": {"start_date": "2026-02-30"}}, r"'partitions.start_date' must be a date"),
        ({"retention": {"raw": -1}}, r"'retention.raw'"),
        ({"freshness": {"warn_hours": {"events": 60.0}}}, r"'freshness.warn_hours.events' \(60.0\) must be less than"),
        ({"storage": {"mode": "ducklake", "data_path": "lake"}}, r"'storage.catalog'"),
        ({"storage": {"memory_limit": 2}}, r"'storage.memory_limit' .*string"),
    ],
)
def test_merged_overrides_are_validated_like_an_override_file(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config().merged(overrides)


def test_a_date_written_without_quotes_is_kept_as_its_text(tmp_path):
    override = tmp_path / "my.yml"
    override.write_text("partitions: {start_date: 2026-10-01}\n")
    assert load_config(override).partitions.start_date == "2026-10-01"
    assert load_config().merged({"retention": {"raw": 30}}).retention.raw == 30


def test_no_module_reads_the_config_when_imported():
    code = """
import pkgutil
import cx_signals, cx_signals.config as config, dagster_defs

def refuse(*args, **kwargs):
    raise SystemExit("config read at import time")

config.load_config = config.default_config_path = refuse
for package in (cx_signals, dagster_defs):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        __import__(module.name)
"""
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=600)
    assert completed.returncode == 0, completed.stderr[-2000:]
