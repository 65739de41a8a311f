"""Data contracts: the YAML files in `data_contracts/` and everything derived from them.

Input contracts (`data_contracts/inputs/*.yml`) describe landing records; they drive record validation,
the raw tables' DDL and their column comments. Table contracts (`data_contracts/tables/*.yml`) describe
the public signals and metrics tables. Great Expectations suites and the data dictionary are derived
from both, so no column list is written twice.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

import yaml

from cx_signals.bundled import project_dir
from cx_signals.landing import SOURCES, parse_json

if TYPE_CHECKING:
    from cx_signals.config import Parameters

DUCKDB_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "json": "JSON",
}
# What ingest does with a field's value before storing it (`pii:` in the input contracts). Only classed fields are
# redacted, so every field that can carry free text needs one. identifier: kept, with a keyed pseudonym in its *_key
# column; free_text: PII-redacted (typed placeholders such as [EMAIL]); json_text: every string of the JSON value
# PII-redacted; id_text: kept unless it contains PII, then replaced by pii-<keyed pseudonym>.
PII_CLASSES = frozenset({"identifier", "free_text", "json_text", "id_text"})
# Item fields unique within their list (a turn id within its conversation). Not the YAML `unique` flag, which
# means unique across the table and becomes a table-wide expectation.
ITEM_IDS = {"turn": "turn_id"}
# Values are read the same way from JSON, CSV and Parquet. A non-finite number (NaN, inf, -inf: a float, or text
# such as "NaN", "inf", "-Infinity") is never missing: in a number or integer field it is 'wrong_type', so that
# CSV's "NaN" and Parquet's NaN cannot load as NULL while "-Infinity" is rejected. A string of digits in a timestamp
# field is an epoch, like a JSON number (seconds below 1e11, else milliseconds); the ISO basic date "20261001" is
# therefore an epoch too (1970, too old): write 2026-10-01.
_EPOCH_TEXT = re.compile(r"-?\d+(?:\.\d+)?")
_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}


@dataclass(frozen=True)
class Field:
    """One field of a contract."""

    name: str
    type: str
    description: str = ""
    required: bool = False
    unique: bool = False
    allowed: tuple[str, ...] | None = None
    range: tuple[float, float] | None = None
    not_before: str | None = None
    pii: str | None = None
    item: str | None = None
    id: bool = False

    @property
    def duckdb_type(self) -> str:
        """The DuckDB column type of this field."""
        return DUCKDB_TYPES[self.type]


@dataclass(frozen=True)
class Window:
    """The days of its upstream tables a partition of a SQL table reads, relative to its own day: `before` days back
    and `after` days ahead, each a whole number or a parameter path with an optional offset
    (`priorities.window_days - 1`), resolved against the config by `days`."""

    before: int | str = 0
    after: int | str = 0

    def days(self, config: Parameters) -> tuple[int, int]:
        """(days back, days ahead), both >= 0, with the parameters taken from `config`."""
        return _window_days(self.before, config), _window_days(self.after, config)


_WINDOW_TERM = re.compile(r"([a-z_]+)\.([a-z_]+)(?:\s*([+-])\s*(\d+))?")


def _window_days(term: int | str, config: Parameters) -> int:
    if isinstance(term, int):
        days = term
    else:
        match = _WINDOW_TERM.fullmatch(term.strip())
        if match is None:
            raise ValueError(f"window {term!r}: write a whole number or section.parameter [+|- n]")
        section, name, sign, offset = match.groups()
        try:
            value = config[section][name]
        except KeyError:
            raise ValueError(f"window {term!r}: no parameter {section}.{name} in the config") from None
        days = int(value) + (int(offset) if sign == "+" else -int(offset or 0))
    if days < 0:
        raise ValueError(f"window {term!r} is {days} days: it must not be negative")
    return days


@dataclass(frozen=True)
class Contract:
    """An input source or public table contract."""

    name: str
    description: str
    fields: tuple[Field, ...]
    items: dict[str, tuple[Field, ...]] = field(default_factory=dict)
    record_id: str | None = None
    partition_by: str | None = None
    one_of_required: tuple[str, ...] = ()
    table: str | None = None
    grain: str | None = None
    primary_key: tuple[str, ...] = ()
    sql: str | None = None
    window: Window | None = None
    raw_tables: tuple[str, ...] = ()

    def field(self, name: str) -> Field:
        """The field called `name`."""
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(f"contract {self.name} has no field {name}")

    @property
    def scalar_fields(self) -> tuple[Field, ...]:
        """Fields stored as columns (lists become child tables)."""
        return tuple(f for f in self.fields if f.type != "list")


@dataclass(frozen=True)
class Violation:
    """A broken contract rule: the rule's name, the field it concerns and a human-readable detail."""

    rule: str
    field: str | None
    detail: str

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{self.rule} ({where}{self.detail})"


def _parse_field(raw: dict[str, Any]) -> Field:
    if raw.get("type") not in (*DUCKDB_TYPES, "list"):
        raise ValueError(f"field {raw.get('name')}: unknown type {raw.get('type')!r}")
    if raw.get("pii") is not None and raw["pii"] not in PII_CLASSES:
        raise ValueError(f"field {raw.get('name')}: unknown pii class {raw['pii']!r} (one of {sorted(PII_CLASSES)})")
    if raw.get("id") and raw["type"] != "string":
        raise ValueError(f"field {raw.get('name')}: only string fields can be ids")
    return Field(
        name=raw["name"],
        type=raw["type"],
        description=str(raw.get("description", "")).strip(),
        required=bool(raw.get("required", False)),
        unique=bool(raw.get("unique", False)),
        allowed=tuple(raw["allowed"]) if raw.get("allowed") is not None else None,
        range=(float(raw["range"][0]), float(raw["range"][1])) if raw.get("range") is not None else None,
        not_before=raw.get("not_before"),
        pii=raw.get("pii"),
        item=raw.get("item"),
        id=bool(raw.get("id", False)),
    )


def parse_contract(raw: dict[str, Any]) -> Contract:
    """Build a Contract from its parsed YAML mapping."""
    columns = raw.get("fields") or raw.get("columns") or []
    return Contract(
        name=raw["name"],
        description=str(raw.get("description", "")).strip(),
        fields=tuple(_parse_field(f) for f in columns),
        items={k: tuple(_parse_field(f) for f in v) for k, v in (raw.get("items") or {}).items()},
        record_id=raw.get("record_id"),
        partition_by=raw.get("partition_by"),
        one_of_required=tuple(raw.get("one_of_required") or ()),
        table=raw.get("table"),
        grain=raw.get("grain"),
        primary_key=tuple(raw.get("primary_key") or ()),
        sql=raw.get("sql"),
        window=Window(**raw["window"]) if raw.get("window") else None,
        raw_tables=tuple(raw.get("raw_tables") or ()),
    )


def _load_dir(kind: str) -> dict[str, Contract]:
    folder = project_dir("data_contracts") / kind
    contracts = {}
    for path in sorted(folder.glob("*.yml")):
        # the C loader when PyYAML has it: the contracts are read by every process that builds the definitions
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        contract = parse_contract(yaml.load(path.read_text(encoding="utf-8"), Loader=loader))
        contracts[contract.table or contract.name] = contract
    return contracts


@cache
def input_contracts() -> dict[str, Contract]:
    """Input source contracts by source name, in the sources' order (`cx_signals.landing.SOURCES`)."""
    contracts = _load_dir("inputs")
    return {source: contracts[source] for source in SOURCES}


@cache
def table_contracts() -> dict[str, Contract]:
    """Public table contracts by qualified table name (e.g. `signals.turn_sentiment`)."""
    return _load_dir("tables")


def parse_timestamp(value: Any) -> datetime:
    """Parse an ISO-8601 string, datetime or epoch (s or ms; a number or a string of digits) to naive UTC.

    Naive inputs are taken to be UTC already. Raises ValueError when the value is not a timestamp.
    """
    if isinstance(value, str) and _EPOCH_TEXT.fullmatch(value.strip()):
        text = value.strip()
        value = float(text) if "." in text else int(text)
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError(f"not a timestamp: {value!r}")
        seconds = value / 1000 if abs(value) >= 1e11 else value
        try:
            parsed = datetime.fromtimestamp(seconds, tz=UTC)
        except (OSError, OverflowError) as exc:  # huge epochs (1e20) fail in the OS, not with ValueError
            raise ValueError(f"not a timestamp: {value!r}") from exc
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
    else:
        raise ValueError(f"not a timestamp: {value!r}")
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _valid_unicode(text: str) -> str:
    """`text` if it can be stored as UTF-8; a JSON escape such as \\ud800 yields a lone surrogate, which cannot."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"invalid Unicode: lone surrogate {text[exc.start]!r} at character {exc.start}") from None
    return text


def _number(value: Any, integer: bool) -> int | float:
    """`value` as an integer or a finite number; raises TypeError otherwise."""
    expected = "an integer" if integer else "a number"
    if isinstance(value, bool):
        raise TypeError(f"expected {expected}, got a boolean")
    if isinstance(value, int):
        return value if integer else float(value)
    try:
        number = float(value) if isinstance(value, float | str | Decimal) else None
    except ValueError:  # text that is not a number, a signalling Decimal NaN
        number = None
    if number is None:
        raise TypeError(f"expected {expected}, got {value!r}")
    if not math.isfinite(number):
        raise TypeError(f"not a finite number: {value!r}")
    if not integer:
        return number
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    if isinstance(value, float) and number.is_integer():
        return int(number)
    raise TypeError(f"expected an integer, got {value!r}")


def _coerce(f: Field, value: Any) -> Any:
    """Return `value` as the field's type, or raise ValueError/TypeError."""
    kind = f.type
    if kind == "string":
        if isinstance(value, str):
            return _valid_unicode(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise TypeError(f"expected text, got {type(value).__name__}")
    if kind in ("integer", "number"):
        return _number(value, integer=kind == "integer")
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise TypeError(f"expected true/false, got {value!r}")
    if kind == "timestamp":
        return parse_timestamp(value)
    if kind == "json":
        if isinstance(value, str):
            value = parse_json(value)
        if not isinstance(value, dict):
            raise TypeError("expected a JSON object")
        return _valid_unicode(json.dumps(value, sort_keys=True, ensure_ascii=False))
    if kind == "list":
        if isinstance(value, str):
            value = parse_json(value)
        if not isinstance(value, list):
            raise TypeError(f"expected a list, got {type(value).__name__}")
        return value
    raise TypeError(f"unsupported type {kind}")


def _is_missing(value: Any, f: Field, placeholders: frozenset[str]) -> bool:
    """Absent, null or blank; for an id field also a placeholder value such as "undefined" or "(not set)"."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return True
    return (
        f.id
        and isinstance(value, str | int)
        and not isinstance(value, bool)
        and (str(value).strip().lower() in placeholders)
    )


@dataclass(frozen=True)
class TimeBounds:
    """Timestamps outside [earliest, latest] are rejected: implausibly old, or in the future."""

    earliest: datetime
    latest: datetime
    now: datetime | None = None  # the run's time, when the bounds were built around it

    @classmethod
    def from_config(cls, config: Parameters, now: datetime) -> TimeBounds:
        """Bounds from `ingest.min_timestamp` to `now` plus `ingest.max_future_skew_hours`."""
        ingest = config["ingest"]
        return cls(
            parse_timestamp(ingest["min_timestamp"]),
            parse_timestamp(now) + timedelta(hours=ingest["max_future_skew_hours"]),
            parse_timestamp(now),
        )


def validate_fields(
    fields: tuple[Field, ...],
    record: Any,
    bounds: TimeBounds,
    prefix: str = "",
    *,
    max_text_chars: int,
    placeholder_ids: Collection[str],
) -> tuple[dict[str, Any], list[Violation]]:
    """Check `record` against `fields`; return its typed values and the rules it breaks.

    Strings longer than `max_text_chars` are rejected ('too_long'): a multi-megabyte paste would otherwise stall
    redaction for minutes. Id fields are trimmed, and one holding a value of `placeholder_ids` (compared
    case-insensitively after trimming) is missing.
    """
    placeholders = frozenset(p.strip().lower() for p in placeholder_ids)
    if not isinstance(record, dict):
        return {}, [
            Violation("not_an_object", prefix.rstrip(".") or None, f"expected an object, got {type(record).__name__}")
        ]
    typed: dict[str, Any] = {}
    violations: list[Violation] = []
    for f in fields:
        name = f"{prefix}{f.name}"
        value = record.get(f.name)
        if _is_missing(value, f, placeholders):
            typed[f.name] = None
            if f.required:
                violations.append(Violation("missing_required", name, "required field is missing or empty"))
            continue
        if f.type == "string" and isinstance(value, str) and len(value) > max_text_chars:
            violations.append(Violation("too_long", name, f"{len(value)} characters, more than {max_text_chars}"))
            typed[f.name] = None
            continue
        try:
            converted = _coerce(f, value)
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            # JSON text in a cell breaks the same rules as a JSON record: duplicate_key, non_finite_number
            rule = getattr(exc, "rule", None) or ("bad_timestamp" if f.type == "timestamp" else "wrong_type")
            violations.append(Violation(rule, name, str(exc)[:200]))
            typed[f.name] = None
            continue
        if f.id:
            converted = converted.strip()
        if f.allowed is not None and converted not in f.allowed:
            violations.append(Violation("not_allowed", name, f"{converted!r} is not one of {list(f.allowed)}"))
        if f.range is not None and not (f.range[0] <= converted <= f.range[1]):
            violations.append(
                Violation("out_of_range", name, f"{converted} is outside [{f.range[0]:g}, {f.range[1]:g}]")
            )
        if f.type == "timestamp":
            if converted > bounds.latest:
                violations.append(
                    Violation("future_timestamp", name, f"{converted.isoformat()} is after {bounds.latest.isoformat()}")
                )
            elif converted < bounds.earliest:
                violations.append(
                    Violation(
                        "too_old_timestamp", name, f"{converted.isoformat()} is before {bounds.earliest.isoformat()}"
                    )
                )
        typed[f.name] = converted
    for f in fields:
        later, earlier = typed.get(f.name), typed.get(f.not_before) if f.not_before else None
        if later is not None and earlier is not None and later < earlier:
            violations.append(Violation("out_of_order", f"{prefix}{f.name}", f"is before {f.not_before}"))
    return typed, violations


def validate_record(
    contract: Contract, record: Any, bounds: TimeBounds, *, max_text_chars: int, placeholder_ids: Collection[str]
) -> tuple[dict[str, Any], list[Violation]]:
    """Check a landing record against its input contract, nested lists included (see `validate_fields`).

    Returns the typed record (lists replaced by lists of typed items) and every violation found.
    """
    limits = {"max_text_chars": max_text_chars, "placeholder_ids": placeholder_ids}
    typed, violations = validate_fields(contract.fields, record, bounds, **limits)
    if contract.one_of_required and all(typed.get(n) is None for n in contract.one_of_required):
        violations.append(
            Violation("missing_required", "|".join(contract.one_of_required), "at least one of these is required")
        )
    for f in contract.fields:
        if f.type != "list" or typed.get(f.name) is None:
            continue
        items = []
        first_index: dict[Any, int] = {}
        item_id = ITEM_IDS.get(f.item or "")
        for index, item in enumerate(typed[f.name]):
            prefix = f"{f.name}[{index}]."
            typed_item, item_violations = validate_fields(contract.items[f.item], item, bounds, prefix, **limits)
            items.append(typed_item)
            violations.extend(item_violations)
            identity = typed_item.get(item_id) if item_id else None
            if identity is None:
                continue
            if identity in first_index:
                violations.append(
                    Violation(
                        "duplicate_item_id",
                        f"{prefix}{item_id}",
                        f"{identity!r} is also {f.name}[{first_index[identity]}].{item_id}",
                    )
                )
            else:
                first_index[identity] = index
        typed[f.name] = items
    return typed, violations
