import pytest

from cx_signals.config import ConfigError, cost_model_rows, load_config, sql_parameters


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
