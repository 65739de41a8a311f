"""The actions source: its freshness (none by default: days without actions are normal), an absent actions folder,
and the CRM mapping example of docs/adapters.md."""

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from cx_signals.config import ConfigError, load_config
from cx_signals.contracts import TimeBounds
from cx_signals.ingest import ingest_source, landing_days
from cx_signals.landing import discover, scan
from dagster_defs.definitions import build_definitions
from dagster_defs.sensors import arrivals, landing_asset_key, list_landing

DOC = Path(__file__).resolve().parents[2] / "docs" / "adapters.md"
DAY = date(2026, 10, 5)
LIMITS = {"max_text_chars": 10_000, "placeholder_ids": ("",)}
BOUNDS = TimeBounds(datetime(1990, 1, 1), datetime(2026, 12, 1))


def policies(config) -> dict[str, object]:
    graph = build_definitions(config, date(2026, 10, 1), "cx_data/cx.duckdb", "cx_data/landing").resolve_asset_graph()
    return {k.to_user_string(): graph.get(k).freshness_policy for k in graph.get_all_asset_keys()}


def test_actions_have_no_freshness_policy_unless_configured(tmp_path):
    default = policies(load_config())
    assert default["landing/actions"] is None and default["raw/actions"] is None
    assert default["landing/events"] is not None and default["raw/events"] is not None
    override = tmp_path / "watch.yml"
    override.write_text("freshness: {warn_hours: {actions: 26}, fail_hours: {actions: 50}}\n")
    watched = policies(load_config(override))["raw/actions"]
    assert watched.warn_window.to_timedelta() == timedelta(hours=26)
    override.write_text("freshness: {warn_hours: {actions: 26}}\n")
    with pytest.raises(ConfigError, match=r"freshness\.warn_hours\.actions.*both"):
        policies(load_config(override))


def test_an_absent_actions_folder_is_normal(tmp_path):
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "e-2026-10-05.jsonl").write_text(
        '{"event_id": "e1", "ts": "2026-10-05T10:00:00Z", "anonymous_id": "a", "event_type": "click"}\n'
    )
    found = scan(tmp_path)
    assert found.ignored == [] and [f.source for f in found.files] == ["events"]
    assert list(list_landing(tmp_path)) == ["events/e-2026-10-05.jsonl"]
    assert landing_days(found.files, load_config(), now=datetime(2026, 11, 1)) == {DAY}
    result = ingest_source("actions", [], {DAY}, BOUNDS, b"k" * 32, **LIMITS)
    assert result.rows == {"raw.actions": []} and result.rejects == []
    assert all(c.read == 0 and c.reconciles for c in result.counts.values())


def test_the_documented_crm_mapping_loads_actions(tmp_path):
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)
    [crm] = [b for b in blocks if "source: actions" in b]
    mapping = tmp_path / "crm_tasks.yml"
    mapping.write_text(crm)
    folder = tmp_path / "land" / "actions"
    folder.mkdir(parents=True)
    (folder / "tasks-2026-10-05.csv").write_text(
        "task_id,completed_at,owner,linked_conversation,cx_alert_id,task_type,comment\n"
        "T-1,2026-10-05T09:30:00Z,jane.doe,CV0000042,abc123,callback,rang jo@example.com back\n"
        "T-2,2026-10-05T11:00:00Z,sam.lee,,,refund,\n"
    )
    result = ingest_source(
        "actions",
        [f for f in discover(tmp_path / "land") if f.source == "actions"],
        {DAY},
        BOUNDS,
        b"k" * 32,
        landing={"mappings": [str(mapping)]},
        **LIMITS,
    )
    rows = sorted(result.rows["raw.actions"], key=lambda r: r["action_id"])
    assert [(r["action_id"], r["conversation_id"], r["alert_id"], r["action"]) for r in rows] == [
        ("T-1", "CV0000042", "abc123", "callback")
    ]
    assert rows[0]["actor_key"] and rows[0]["note"] == "rang [EMAIL] back"
    # T-2 names neither a journey nor a conversation: quarantined with the rule it breaks
    assert [(r["source_line"], r["rule"]) for r in result.rejects] == [(3, "missing_required")]


def test_new_action_files_are_an_arrival_of_the_actions_landing_asset(tmp_path):
    (tmp_path / "actions").mkdir()
    (tmp_path / "actions" / "actions-2026-10-05.jsonl").write_text(
        '{"action_id": "x1", "ts": "2026-10-05T10:00:00Z", "journey_id": "CV1", "action": "call", "actor_id": "o"}\n'
    )
    listing = list_landing(tmp_path)
    [arrival] = arrivals(listing, sorted(listing))
    assert arrival.asset_key == landing_asset_key("actions") and arrival.metadata["files"].value == 1
    assert landing_days(discover(tmp_path), load_config(), now=datetime(2026, 11, 1)) == {DAY}
