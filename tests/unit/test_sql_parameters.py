"""Every `$name` in sql/ follows the naming rule of sql/README.md: a config path, or a value bound by the caller."""

import re

from cx_signals.bundled import project_dir
from cx_signals.config import load_config, sql_parameters

# The values callers bind for a run (sql/README.md); none begins with a config section.
RUN_VALUES = {"start_date", "end_date", "run_id", "run_ids", "table", "source", "first_kept", "recorded_at"}


def sql_files() -> dict[str, str]:
    folder = project_dir("sql")
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*.sql"))}


def test_every_parameter_is_a_config_path_or_a_run_value():
    config = load_config()
    parameters = sql_parameters(config)
    sections = set(type(config).model_fields)
    assert not {v for v in RUN_VALUES if any(v.startswith(f"{s}_") for s in sections)}
    for name, text in sql_files().items():
        for parameter in set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", re.sub(r"--[^\n]*", "", text))):
            if parameter in RUN_VALUES:
                continue
            assert parameter in parameters, f"sql/{name}: ${parameter} is neither a config value nor a run value"
            assert any(parameter.startswith(f"{s}_") for s in sections), f"sql/{name}: ${parameter}"


def test_every_derived_parameter_is_named_for_its_config_path():
    config = load_config()
    parameters = sql_parameters(config)
    for name in parameters:
        paths = [
            (section, key)
            for section, values in config
            for key, _ in values
            if name == f"{section}_{key}" or name.startswith(f"{section}_{key}_")
        ]
        assert paths, f"${name} names no config value"
    assert parameters["friction_score_weights_crashes"] == config["friction"]["score_weights"]["crashes"]
    assert parameters["conversation_effort_patterns"].startswith("(?i)(")
