"""The pipeline's parameters: `config/defaults.yml`, optionally deep-merged with a user's override file."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from cx_signals.resources import project_dir

CONFIG_ENV_VAR = "CX_SIGNALS_CONFIG"


class ConfigError(ValueError):
    """The override file is unreadable or names a parameter the defaults do not have."""


def _merge(base: dict[str, Any], override: dict[str, Any], where: str = "") -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        path = f"{where}{key}"
        if key not in base:
            raise ConfigError(f"unknown parameter '{path}' (see config/defaults.yml for the valid names)")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"parameter '{path}' must be a mapping")
            merged[key] = _merge(base[key], value, f"{path}.")
        else:
            merged[key] = value
    return merged


def default_config_path() -> Path:
    """Path of the bundled defaults file."""
    return project_dir("config") / "defaults.yml"


def load_config(override: Path | str | None = None) -> dict[str, Any]:
    """Return the defaults merged with `override` (a YAML file), as nested dicts."""
    defaults = yaml.safe_load(default_config_path().read_text(encoding="utf-8"))
    if override is None or str(override) == "":
        return defaults
    path = Path(override)
    try:
        user = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    if not isinstance(user, dict):
        raise ConfigError(f"config file {path} must hold a mapping")
    return _merge(defaults, user)


def flat_parameters(config: dict[str, Any]) -> dict[str, Any]:
    """Flatten scalar parameters to `section_name` keys, the names SQL files use as `$section_name`."""
    flat: dict[str, Any] = {}
    for section, values in config.items():
        if not isinstance(values, dict):
            continue
        for name, value in values.items():
            if isinstance(value, bool | int | float | str):
                flat[f"{section}_{name}"] = value
    return flat


def _any_of(patterns: list[str]) -> str:
    return "(?i)(" + "|".join(f"(?:{p})" for p in patterns) + ")"


def sql_parameters(config: dict[str, Any]) -> dict[str, Any]:
    """Every value SQL files may reference: flat scalars, combined regexes and `w_<part>` score weights."""
    parameters = flat_parameters(config)
    parameters["escalation_regex"] = _any_of(config["conversation"]["escalation_patterns"])
    parameters["effort_regex"] = _any_of(config["conversation"]["effort_patterns"])
    parameters.update({f"w_{part}": float(w) for part, w in config["friction"]["score_weights"].items()})
    return parameters


def cost_model_rows(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-channel cost model as rows: channel, agent_cost_per_minute, after_contact_work_minutes,
    written_reply_minutes (null where agent time is elapsed time)."""
    costs = config["costs"]
    return [
        {
            "channel": channel,
            "agent_cost_per_minute": float(per_minute),
            "after_contact_work_minutes": float(costs["after_contact_work_minutes"][channel]),
            "written_reply_minutes": costs["written_reply_minutes"].get(channel),
        }
        for channel, per_minute in costs["agent_cost_per_minute"].items()
    ]
