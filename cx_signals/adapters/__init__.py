"""Adapters from real exports (Snowplow, help desks, Twitter support threads, OpenTelemetry, declarative mappings)
onto the input contracts: see `base.Adapter`. `registry` lists them; `cx_signals.adapters.detect` recognises a
landing file's format and converts its records."""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from cx_signals.adapters.base import Adapter
from cx_signals.contracts import input_contracts
from cx_signals.landing import CONTRACT_FORMAT

CONTRACT = CONTRACT_FORMAT  # a file in the contract's own shape (data_contracts/inputs/<source>.yml): the fast path
AUTO = "auto"  # recognise each file by its content
# Modules of the built-in adapters, each exposing ADAPTERS (a tuple of Adapter); tried in this order.
BUILT_IN: tuple[str, ...] = (
    "snowplow",
    "otel",
    "twcs",
    "zendesk",
    "intercom",
    "freshdesk",
)


@cache
def built_in() -> tuple[Adapter, ...]:
    """Every built-in adapter, in the order they are tried."""
    return tuple(a for module in BUILT_IN for a in importlib.import_module(f"{__name__}.{module}").ADAPTERS)


def registry(source: str, landing: dict[str, Any] | None = None) -> tuple[Adapter, ...]:
    """The adapters of `source`, in the order they are tried: the built-in ones, then the declarative mappings the
    config's `landing.mappings` names."""
    from cx_signals.adapters.mapping import load_mappings

    mappings = load_mappings(tuple((landing or {}).get("mappings") or ()))
    settings = (landing or {}).get(source) or {}
    # an adapter taking settings (the transcript adapters' consent_analytics) gets the run's landing.<source>
    return tuple(
        a.configured(settings) if landing and hasattr(a, "configured") else a
        for a in (*built_in(), *mappings)
        if a.source == source
    )


def formats(source: str, landing: dict[str, Any] | None = None) -> list[str]:
    """The format names `landing.<source>.format` accepts."""
    return [AUTO, CONTRACT, *(a.name for a in registry(source, landing))]


def check_landing(landing: dict[str, Any]) -> None:
    """Raise ValueError naming the first bad setting of the config's `landing` section: a mapping file that cannot
    be loaded, or a forced format no adapter of its source has."""
    from cx_signals.adapters.mapping import load_mappings

    load_mappings(tuple(landing.get("mappings") or ()))
    for source, settings in landing.items():
        if source == "mappings":
            continue
        allowed = formats(source, landing)
        if settings["format"] not in allowed:
            raise ValueError(
                f"parameter 'landing.{source}.format' must be one of {', '.join(allowed)}, got {settings['format']!r}"
            )


# The first raw table of each source: its audit rows list the source's files once.
_AUDITED = {contract.raw_tables[0]: source for source, contract in input_contracts().items()}
_MAX_FILES_LISTED = 30


def files_read(con: Any, run_ids: list[str]) -> list[tuple[str, str, str, int, int]]:
    """What the runs `run_ids` read, from `audit.runs`: (source, file, format, read as, records), one row per file, or
    per source, format and reading (file: the first file's name and how many more) when there are more than 30
    files. Format is `contract` or an adapter's name; read as says how the bytes were read ("csv, no header")."""
    rows = con.execute(
        """SELECT asset, f.file, coalesce(f.format, 'contract'), coalesce(f.read_as, ''), sum(f.rows)::BIGINT
        FROM (SELECT asset, unnest(from_json(inputs,
                '[{"file": "VARCHAR", "format": "VARCHAR", "read_as": "VARCHAR", "rows": "BIGINT"}]')) AS f
              FROM audit.runs
              WHERE run_id IN (SELECT unnest($run_ids::VARCHAR[])) AND asset IN (SELECT unnest($assets::VARCHAR[])))
        GROUP BY ALL ORDER BY ALL""",
        {"run_ids": run_ids, "assets": list(_AUDITED)},
    ).fetchall()
    listed = [(_AUDITED[asset], file, fmt, read_as, n) for asset, file, fmt, read_as, n in rows]
    if len(listed) <= _MAX_FILES_LISTED:
        return listed
    grouped: dict[tuple[str, str, str], list[Any]] = {}
    for source, file, fmt, read_as, n in listed:
        group = grouped.setdefault((source, fmt, read_as), [file, 0, 0])
        group[1] += 1
        group[2] += n
    return [
        (source, f"{first} and {files - 1} more" if files > 1 else first, fmt, read_as, n)
        for (source, fmt, read_as), (first, files, n) in grouped.items()
    ]
