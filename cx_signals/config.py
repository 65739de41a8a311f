"""The pipeline's parameters: `config/defaults.yml`, optionally deep-merged with a user's override file."""

from __future__ import annotations

import copy
import math
import re
from datetime import date
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import yaml

from cx_signals.resources import project_dir

CONFIG_ENV_VAR = "CX_SIGNALS_CONFIG"


class ConfigError(ValueError):
    """The override file is unreadable, names a parameter the defaults do not have, or gives a value of the wrong
    type or out of its range."""


# Parameters whose default is null, by the kind of value they take instead.
_NULLABLE = {"partitions.start_date": "date", "retention.*": "days", "storage.*": "text"}
# Parameters that take one of a few words.
_CHOICES = {"storage.mode": ("duckdb", "ducklake")}
# Ranges [low, high] by parameter path pattern; the first match applies. Numbers not listed must be >= 0.
_RANGES: tuple[tuple[str, float, float], ...] = (
    ("sentiment.*_threshold", -1.0, 1.0),
    ("outcomes.cwq_min_end_sentiment", -1.0, 1.0),
    ("alerts.sentiment_drop", -1.0, 1.0),
    ("*_share", 0.0, 1.0),
    ("triage.min_confidence", 0.0, 1.0),
    ("conversation.repetition_min_similarity", 0.0, 1.0),
    ("priorities.cwq_target", 0.0, 1.0),
    ("anomalies.min_*_spread", 0.0, 1.0),
    ("*_days", 1, math.inf),
    ("*_turns", 1, math.inf),
    ("*.max_*", 1, math.inf),
    ("sessions.inactivity_minutes", 1, math.inf),
    ("locks.timeout_seconds", 0.001, math.inf),
    ("freshness.*", 1 / 60, math.inf),
    ("*", 0.0, math.inf),
)
_DATES = ("partitions.start_date", "ingest.min_timestamp")


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


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _check_type(path: str, value: Any, default: Any) -> None:
    if default is None:
        kind = next((k for pattern, k in _NULLABLE.items() if fnmatch(path, pattern)), None)
        if value is None:
            return
        if kind == "days" and (not isinstance(value, int) or isinstance(value, bool)):
            raise ConfigError(f"parameter '{path}' must be a whole number of days or null, got {value!r}")
        if kind == "date" and not isinstance(value, str | date):
            raise ConfigError(f"parameter '{path}' must be a date (YYYY-MM-DD) or null, got {value!r}")
        if kind == "text" and not isinstance(value, str):
            raise ConfigError(f"parameter '{path}' must be text or null, got {value!r}")
        return
    wrong = (
        (isinstance(default, bool) and not isinstance(value, bool))
        or (isinstance(default, int) and not isinstance(default, bool) and (type(value) is not int))
        or (isinstance(default, float) and (isinstance(value, bool) or not isinstance(value, int | float)))
        or (isinstance(default, str) and not isinstance(value, str | date))
        or (isinstance(default, list) and not isinstance(value, list))
    )
    if wrong:
        raise ConfigError(
            f"parameter '{path}' must be {_kind(default)} like its default {default!r}, got {value!r} ({_kind(value)})"
        )
    if isinstance(default, list) and default and any(not isinstance(v, type(default[0])) for v in value):
        raise ConfigError(f"parameter '{path}' must be a list of {_kind(default[0])} values, got {value!r}")


def _check_value(path: str, value: Any) -> None:
    if value is None:
        return
    if path in _CHOICES and value not in _CHOICES[path]:
        raise ConfigError(f"parameter '{path}' must be one of {', '.join(_CHOICES[path])}, got {value!r}")
    if path in _DATES:
        try:
            date.fromisoformat(str(value))
        except ValueError:
            raise ConfigError(f"parameter '{path}' must be a date (YYYY-MM-DD), got {value!r}") from None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        low, high = next((lo, hi) for pattern, lo, hi in _RANGES if fnmatch(path, pattern))
        if not (math.isfinite(value) and low <= value <= high):
            raise ConfigError(f"parameter '{path}' must be between {low:g} and {high:g}, got {value!r}")
    if path.endswith(("_regex", "_patterns")):
        for pattern in value if isinstance(value, list) else [value]:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(f"parameter '{path}' holds an invalid regular expression {pattern!r}: {exc}") from (
                    None
                )
    if path.endswith("_cron") and len(str(value).split()) != 5:
        raise ConfigError(f"parameter '{path}' must be a cron expression of five fields, got {value!r}")


def validate_config(config: dict[str, Any], defaults: dict[str, Any], where: str = "") -> None:
    """Check every value of `config` against the type of its default and its range; raise ConfigError naming the
    first bad parameter."""
    for key, value in config.items():
        path = f"{where}{key}"
        default = defaults.get(key)
        if isinstance(default, dict):
            validate_config(value, default, f"{path}.")
            continue
        _check_type(path, value, default)
        _check_value(path, value)
    sentiment = config.get("sentiment")
    if sentiment and sentiment["negative_threshold"] > sentiment["positive_threshold"]:
        raise ConfigError("parameter 'sentiment.negative_threshold' must not exceed 'sentiment.positive_threshold'")
    if config.get("landing"):
        from cx_signals.adapters import check_landing

        try:
            check_landing(config["landing"])
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    storage = config.get("storage")
    if storage and storage["mode"] == "ducklake":
        if not str(storage["catalog"] or "").startswith("postgres:"):
            raise ConfigError("parameter 'storage.catalog' must name a PostgreSQL catalog: 'postgres:dbname=...'")
        if not storage["data_path"]:
            raise ConfigError("parameter 'storage.data_path' must name the folder of the DuckLake's Parquet files")


def default_config_path() -> Path:
    """Path of the bundled defaults file."""
    return project_dir("config") / "defaults.yml"


def load_config(override: Path | str | None = None) -> dict[str, Any]:
    """Return the defaults merged with `override` (a YAML file), as nested dicts, every value type- and
    range-checked against its default (ConfigError otherwise)."""
    defaults = yaml.safe_load(default_config_path().read_text(encoding="utf-8"))
    if override is None or str(override) == "":
        validate_config(defaults, defaults)
        return defaults
    path = Path(override)
    try:
        user = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    if not isinstance(user, dict):
        raise ConfigError(f"config file {path} must hold a mapping")
    merged = _merge(defaults, user)
    try:
        validate_config(merged, defaults)
    except ConfigError as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
    return merged


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
