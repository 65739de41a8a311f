"""What an operator sees in the Dagster UI after `cx-signals demo`: the partitions of the data, and each asset's
description and column schema from the contracts."""

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest

from cx_signals.contracts import input_contracts
from cx_signals.generate import generate_landing
from cx_signals.tables import all_tables
from dagster_defs.definitions import defs


@pytest.fixture(scope="module")
def location(tmp_path_factory) -> dg.Definitions:
    root = tmp_path_factory.mktemp("operator")
    generate_landing(root / "landing", days=3, customers=30, seed=3, start=date(2025, 3, 4))
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("CX_SIGNALS_CONFIG", raising=False)
        patch.setenv("CX_SIGNALS_DB", str(root / "cx.duckdb"))
        patch.setenv("CX_SIGNALS_LANDING", str(root / "landing"))
        yield defs()


def test_the_partitions_start_on_the_first_day_of_the_data_and_run_to_today(location):
    graph = location.resolve_asset_graph()
    keys = next(a.partitions_def for a in graph.assets_defs if a.partitions_def).get_partition_keys()
    assert keys[0] == "2025-03-04"  # the generated data's first day, not a fixed 2024 floor
    assert {"2025-03-04", "2025-03-05", "2025-03-06"} <= set(keys)
    # the schedule runs yesterday's partition: it must exist
    assert (datetime.now(UTC).date() - timedelta(days=1)).isoformat() in keys


def test_every_table_asset_shows_its_contract_description_and_column_schema(location):
    tables = all_tables()
    specs = {".".join(spec.key.path): spec for spec in location.resolve_all_asset_specs()}
    shown = [name for name in specs if name in tables]
    assert {"raw.conversations", "raw.turns", "metrics.contact_outcomes", "signals.session_friction"} <= set(shown)
    for name in shown:
        spec, table = specs[name], tables[name]
        assert spec.description == table.description, name
        schema = spec.metadata["dagster/column_schema"]
        assert [(c.name, c.type, c.description) for c in schema.columns] == [
            (c.name, c.type, c.description) for c in table.columns
        ], name
    # the transcripts' three raw tables come from one ingest step but are described each as itself
    assert len({specs[t].description for t in ("raw.conversations", "raw.turns", "raw.conversation_events")}) == 3


def test_the_landing_assets_show_the_fields_their_files_must_have(location):
    specs = {spec.key.to_user_string(): spec for spec in location.resolve_all_asset_specs()}
    for source, contract in input_contracts().items():
        spec = specs[f"landing/{source}"]
        assert contract.description in spec.description
        names = [c.name for c in spec.metadata["dagster/column_schema"].columns]
        assert names == [f.name for f in contract.fields]
