"""Declarative mappings: a YAML file describing how another CSV or JSON export maps onto a source's contract.

```yaml
name: acme_clicks                # the format is called mapping:acme_clicks
source: events                   # transcripts | telemetry | events
detect: [click_id, when, visitor]  # a file is this export when its first record has all these keys (or paths)
records: data.items              # optional: where the records are inside one JSON document
fields:                          # contract field: a path, or a mapping with path or const and optional rules
  event_id: click_id
  ts: {path: when, format: "%d/%m/%Y %H:%M:%S", timezone: Europe/Paris}
  anonymous_id: visitor.id
  event_type: {path: action, values: {pv: page_view, clk: click}}
  x: {path: position.x, type: integer}
  page: {path: url, default: /}
  properties: {rest: true}
```

A path follows keys with dots and list items with [n] (`items[0].name`); a key holding a dot is written in
brackets, `["a.b"]`. `format` reads a timestamp: a strftime pattern, `iso`, or `unix_s`, `unix_ms`, `unix_us`,
`unix_ns` (numbers or numeric text); a time without an offset is in `timezone` (default UTC). `values` maps source
values to contract values; a value it does not list is unmappable (quarantined with the values it knows) unless
`default` is given. `type` (string, integer, number, boolean) converts text cells; `const` gives a fixed value;
`rest: true` collects every source key no field reads into a JSON object.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from cx_signals.adapters.base import UNMAPPABLE_RULE
from cx_signals.landing import SOURCES, LandingRecord

MAPPING_PREFIX = "mapping:"
_PATH_PART = re.compile(r'\["([^"]+)"\]|\[(\d+)\]|([^.\[\]]+)')
_UNIX = {"unix_s": 1, "unix_ms": 1e3, "unix_us": 1e6, "unix_ns": 1e9}
_TYPES = ("string", "integer", "number", "boolean")
_TRUE, _FALSE = {"true", "1", "yes", "y", "t"}, {"false", "0", "no", "n", "f", ""}
_SPEC_KEYS = {"path", "const", "values", "default", "format", "timezone", "type", "rest"}
_MISSING = object()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UTC_ZONE = ZoneInfo("UTC")


class MappingError(ValueError):
    """A mapping file that cannot be used, naming the file and what is wrong."""


class Unmappable(ValueError):
    """A source record a mapping cannot convert, with the reason."""


def parse_path(path: str) -> tuple[str | int, ...]:
    """The keys (str) and list indexes (int) of a dotted path such as `a.b[0]["c.d"]`."""
    parts: list[str | int] = []
    position = 0
    while position < len(path):
        if path[position] == "." and parts:
            position += 1
        match = _PATH_PART.match(path, position)
        if match is None:
            raise MappingError(f"bad path {path!r} at character {position + 1}")
        quoted, index, key = match.groups()
        parts.append(int(index) if index is not None else quoted if quoted is not None else key)
        position = match.end()
    if not parts:
        raise MappingError("an empty path")
    return tuple(parts)


def lookup(value: Any, path: tuple[str | int, ...]) -> Any:
    """The value at `path` in nested dicts and lists, or `_MISSING`. A key holding the whole dotted path (a flat
    CSV header such as `user.id`) is found too."""
    for position, part in enumerate(path):
        if isinstance(value, dict):
            if part in value:
                value = value[part]
                continue
            joined = ".".join(str(p) for p in path[position:])
            return value.get(joined, _MISSING)
        if isinstance(value, list) and isinstance(part, int) and -len(value) <= part < len(value):
            value = value[part]
            continue
        return _MISSING
    return value


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def read_timestamp(value: Any, fmt: str, zone: ZoneInfo) -> str:
    """`value` read with `fmt` (strftime pattern, iso, unix_s/ms/us/ns) as ISO-8601 UTC text; naive times are in
    `zone`. Raises Unmappable when it does not fit."""
    if isinstance(value, datetime):
        moment = value
    elif fmt in _UNIX:
        try:
            number = int(value) if isinstance(value, str) and value.strip().lstrip("-").isdigit() else float(value)
        except (TypeError, ValueError):
            raise Unmappable(f"{value!r} is not a {fmt} timestamp") from None
        scale = int(_UNIX[fmt])
        if isinstance(number, int):  # exact: a float cannot hold nanoseconds since 1970
            whole, rest = divmod(number, scale)
            moment = _EPOCH + timedelta(seconds=whole, microseconds=rest * 1_000_000 // scale)
        elif math.isfinite(number):
            moment = _EPOCH + timedelta(seconds=number / scale)
        else:
            raise Unmappable(f"{value!r} is not a {fmt} timestamp")
    else:
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text) if fmt == "iso" else datetime.strptime(text, fmt)
        except ValueError:
            raise Unmappable(f"{value!r} does not match the timestamp format {fmt!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return _iso(moment)


def _typed(value: Any, kind: str) -> Any:
    if kind == "string":
        return str(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            if kind == "integer":
                return int(text)
            if kind == "number":
                return float(text)
        except ValueError:
            raise Unmappable(f"{value!r} is not {'an integer' if kind == 'integer' else 'a number'}") from None
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise Unmappable(f"{value!r} is not true or false")
    return value


@dataclass(frozen=True)
class FieldRule:
    """How one contract field is filled: from `path` or `const`, through `values`, `format` and `type`."""

    name: str
    path: tuple[str | int, ...] | None = None
    const: Any = None
    values: dict[str, Any] | None = None
    default: Any = _MISSING
    format: str | None = None
    zone: ZoneInfo = _UTC_ZONE
    type: str | None = None
    rest: bool = False

    def value(self, record: Any) -> Any:
        """The field's value in `record`, `_MISSING` when absent; raises Unmappable."""
        if self.path is None:
            return self.const
        value = lookup(record, self.path)
        if value is _MISSING or value is None or value == "":
            return self.default if self.default is not _MISSING else _MISSING
        if self.values is not None:
            key = str(value).lower() if isinstance(value, bool) else str(value)
            if key in self.values:
                value = self.values[key]
            elif self.default is not _MISSING:
                value = self.default
            else:
                known = ", ".join(repr(k) for k in list(self.values)[:20])
                raise Unmappable(f"{self.name}: value {value!r} is not one the mapping knows ({known})")
        if self.format is not None and value is not None:
            value = read_timestamp(value, self.format, self.zone)
        elif self.type is not None and value is not None:
            value = _typed(value, self.type)
        return value


def _rule(path: Path, name: str, spec: Any) -> FieldRule:
    if isinstance(spec, str):
        return FieldRule(name, parse_path(spec))
    if not isinstance(spec, dict):
        raise MappingError(f"{path}: field {name!r} must be a path or a mapping, got {spec!r}")
    unknown = set(spec) - _SPEC_KEYS
    if unknown:
        raise MappingError(f"{path}: field {name!r} has unknown keys {sorted(unknown)} (allowed: {sorted(_SPEC_KEYS)})")
    if spec.get("rest"):
        return FieldRule(name, rest=True)
    if ("path" in spec) == ("const" in spec):
        raise MappingError(f"{path}: field {name!r} needs exactly one of path, const or rest")
    if spec.get("type") not in (None, *_TYPES):
        raise MappingError(f"{path}: field {name!r} type must be one of {', '.join(_TYPES)}")
    try:
        zone = ZoneInfo(spec.get("timezone", "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        raise MappingError(f"{path}: field {name!r} has an unknown timezone {spec.get('timezone')!r}") from None
    values = spec.get("values")
    if values is not None and not isinstance(values, dict):
        raise MappingError(f"{path}: field {name!r} values must be a mapping of source value to contract value")
    return FieldRule(
        name,
        parse_path(str(spec["path"])) if "path" in spec else None,
        spec.get("const"),
        {str(k).lower() if isinstance(k, bool) else str(k): v for k, v in values.items()} if values else None,
        spec.get("default", _MISSING),
        spec.get("format"),
        zone,
        spec.get("type"),
    )


@dataclass(frozen=True)
class MappingAdapter:
    """An adapter described by a mapping file (see the module's docstring)."""

    name: str
    source: str
    detect_paths: tuple[tuple[str | int, ...], ...]
    rules: tuple[FieldRule, ...]
    records_path: tuple[str | int, ...] | None = None
    read_paths: frozenset[str] = field(default_factory=frozenset)

    def detect(self, first: Any) -> bool:
        """Whether `first` has every key or path of `detect` (inside `records` when the file is one document)."""
        if not isinstance(first, dict):
            return False
        if self.records_path is not None:
            inner = lookup(first, self.records_path)
            if not isinstance(inner, list) or not inner or not isinstance(inner[0], dict):
                return False
            first = inner[0]
        return all(lookup(first, p) is not _MISSING for p in self.detect_paths)

    def _convert_one(self, record: Any) -> dict[str, Any]:
        if not isinstance(record, dict):
            raise Unmappable(f"a {type(record).__name__} where the mapping expects an object")
        out: dict[str, Any] = {}
        for rule in self.rules:
            if rule.rest:
                out[rule.name] = {k: v for k, v in record.items() if k not in self.read_paths and v not in ("", None)}
                continue
            value = rule.value(record)
            if value is not _MISSING:
                out[rule.name] = value
        return out

    def convert(self, records: Iterable[LandingRecord]) -> Iterator[LandingRecord]:
        """Each source record as a contract record; one the rules cannot map is returned with its error."""
        for record in records:
            items = [record.value]
            if self.records_path is not None:
                inner = lookup(record.value, self.records_path)
                items = inner if isinstance(inner, list) else []
                if not isinstance(inner, list):
                    yield LandingRecord(
                        record.line, record.payload, error=f"{self.name}: no list of records here", rule=UNMAPPABLE_RULE
                    )
            for item in items:
                try:
                    yield LandingRecord(record.line, record.payload, value=self._convert_one(item))
                except Unmappable as exc:
                    yield LandingRecord(record.line, record.payload, error=f"{self.name}: {exc}", rule=UNMAPPABLE_RULE)


def load_mapping(path: Path) -> MappingAdapter:
    """The adapter a mapping file describes; MappingError naming the file and the problem otherwise."""
    from cx_signals.contracts import input_contracts

    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"cannot read mapping file {path}: {exc}") from None
    if not isinstance(spec, dict):
        raise MappingError(f"mapping file {path} must hold a mapping")
    missing = [k for k in ("name", "source", "detect", "fields") if k not in spec]
    if missing:
        raise MappingError(f"mapping file {path} lacks {', '.join(missing)}")
    if spec["source"] not in SOURCES:
        raise MappingError(f"{path}: source must be one of {', '.join(SOURCES)}, got {spec['source']!r}")
    contract = input_contracts()[spec["source"]]
    known = {f.name for f in contract.fields}
    if not isinstance(spec["fields"], dict) or not spec["fields"]:
        raise MappingError(f"{path}: fields must map contract fields to paths")
    unknown = sorted(set(spec["fields"]) - known)
    if unknown:
        raise MappingError(f"{path}: {', '.join(unknown)} not fields of the {spec['source']} contract")
    detect = spec["detect"] if isinstance(spec["detect"], list) else [spec["detect"]]
    rules = tuple(_rule(path, name, rule) for name, rule in spec["fields"].items())
    read = frozenset(str(r.path[0]) for r in rules if r.path)
    return MappingAdapter(
        MAPPING_PREFIX + str(spec["name"]),
        spec["source"],
        tuple(parse_path(str(p)) for p in detect),
        rules,
        parse_path(str(spec["records"])) if spec.get("records") else None,
        read,
    )


@cache
def load_mappings(paths: tuple[str, ...]) -> tuple[MappingAdapter, ...]:
    """The adapters of the mapping files `paths` (relative to the current folder), in order; names must differ."""
    adapters = tuple(load_mapping(Path(p).expanduser()) for p in paths)
    names = [a.name for a in adapters]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise MappingError(f"mapping names must differ: {', '.join(repeated)} named twice")
    return adapters
