"""The categories asset: its lineage, a code version that follows the rules, and the re-score job's selection."""

from datetime import date
from pathlib import Path

import yaml

from cx_signals.categories import default_rules_path
from cx_signals.config import load_config
from dagster_defs.assets.categories import CATEGORY_TABLES, RESCORE_JOB, build_categories
from dagster_defs.definitions import build_definitions
from dagster_defs.partitions import daily_partitions

PARTITIONS = daily_partitions(date(2026, 10, 1))


def test_lineage_and_code_version_follow_the_rules(tmp_path: Path):
    config = load_config()
    (asset,), checks = build_categories(config, PARTITIONS)
    assert {k.to_user_string() for k in asset.keys} == {t.replace(".", "/") for t in CATEGORY_TABLES}
    deps = {d.to_user_string() for deps in asset.asset_deps.values() for d in deps}
    assert deps == {"raw/conversations", "raw/turns", "signals/turn_sentiment", "signals/conversation_signals"}
    assert len(checks) == 2
    before = set(asset.code_versions_by_key.values())

    document = yaml.safe_load(default_rules_path().read_text(encoding="utf-8"))
    document["categories"]["long_hold"]["when"]["signal"]["value"] = 60
    rules = tmp_path / "rules.yml"
    rules.write_text(yaml.safe_dump(document), encoding="utf-8")
    (other,), _ = build_categories(config.merged({"categories": {"rules_file": str(rules)}}), PARTITIONS)
    after = set(other.code_versions_by_key.values())
    assert len(before) == len(after) == 1 and before != after


def test_the_rescore_job_selects_the_rule_tables_their_scores_and_publishing(tmp_path: Path):
    definitions = build_definitions(
        load_config(), date(2026, 10, 1), str(tmp_path / "cx.duckdb"), str(tmp_path / "landing")
    )
    selected = {
        key.to_user_string() for key in definitions.resolve_job_def(RESCORE_JOB).asset_layer.selected_asset_keys
    }
    assert {
        "signals/conversation_categories",
        "signals/qa_answers",
        "signals/qa_conversation_scores",
        "metrics/qa_scores",
    } <= selected
    assert any(key.startswith("published/") for key in selected)
    assert not any(key.startswith("raw/") or key == "signals/conversation_signals" for key in selected)
