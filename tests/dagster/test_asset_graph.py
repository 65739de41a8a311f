"""Snapshot of the hand-written part of the asset graph: asset keys, groups, dependencies with their partition
windows, partitions and checks of the assets declared in Python.

The SQL assets built from the contracts are left out, and so are the publishing steps' dependencies on them: their
lineage is parsed from their SQL, their windows and checks come from their contracts, and publishing follows every
leaf, all checked by test_sql_assets.py; a person reviews the contract and the SQL file instead. So adding a SQL
table or a column changes no snapshot. An intended change to a hand-written asset (a new dependency, another window)
is accepted by regenerating the snapshot:
    CX_UPDATE_SNAPSHOT=1 .venv/bin/pytest -n 0 tests/dagster/test_asset_graph.py
and reviewing the diff of tests/dagster/asset_graph.json with the change.
"""

import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg

from cx_signals.config import load_config
from dagster_defs.assets.sql_tables import sql_contracts
from dagster_defs.definitions import build_definitions

SNAPSHOT = Path(__file__).with_name("asset_graph.json")


def _mapping(mapping: dg.PartitionMapping | None) -> Any:
    if isinstance(mapping, dg.TimeWindowPartitionMapping):
        return {"days_before": -mapping.start_offset, "days_after": mapping.end_offset}
    return type(mapping).__name__ if mapping is not None else "same partition"


def _from_contract(key: dg.AssetKey) -> bool:
    return ".".join(key.path) in sql_contracts()


def asset_graph(definitions: dg.Definitions) -> dict[str, Any]:
    """The hand-written part of the graph of `definitions` as plain data, one entry per asset key not built from a
    contract."""
    graph = definitions.resolve_asset_graph()
    checks: dict[str, list[dict[str, Any]]] = {}
    for check_key in sorted(graph.asset_check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name)):
        spec = graph.get_check_spec(check_key)
        checks.setdefault(check_key.asset_key.to_user_string(), []).append(
            {"name": check_key.name, "blocking": spec.blocking}
        )
    snapshot = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        if _from_contract(key):
            continue
        node = graph.get(key)
        publishing = node.group_name == "published"
        partitions = node.partitions_def
        mappings = node.partition_mappings
        snapshot[key.to_user_string()] = {
            "group": node.group_name,
            "executable": node.is_executable,
            "partitions": type(partitions).__name__ if partitions else None,
            "deps": {
                parent.to_user_string(): _mapping(mappings.get(parent))
                for parent in sorted(node.parent_keys, key=lambda k: k.to_user_string())
                if not (publishing and _from_contract(parent))
            },
            "checks": checks.get(key.to_user_string(), []),
        }
    return snapshot


def test_the_asset_graph_matches_its_snapshot():
    definitions = build_definitions(load_config(), date(2026, 1, 1), "cx_data/cx.duckdb", "cx_data/landing")
    current = asset_graph(definitions)
    if os.environ.get("CX_UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert current == expected, (
        "the asset graph changed; if intended, regenerate tests/dagster/asset_graph.json (see this module's docstring)"
    )
