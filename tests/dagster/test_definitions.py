from datetime import date, timedelta

import dagster as dg
import pytest

from cx_signals.config import ConfigError, load_config
from dagster_defs.definitions import build_definitions, defs, first_partition_day


@pytest.fixture(scope="module")
def built() -> dg.Definitions:
    return build_definitions(load_config(), date(2017, 10, 1), "cx_data/cx.duckdb", "cx_data/landing")


def test_definitions_load_with_every_public_table_as_an_asset(built):
    keys = {key.to_user_string() for key in built.resolve_asset_graph().get_all_asset_keys()}
    for table in (
        "raw/conversations",
        "raw/turns",
        "raw/conversation_events",
        "raw/telemetry",
        "raw/events",
        "signals/turn_sentiment",
        "signals/conversation_signals",
        "signals/session_friction",
        "signals/intent_predictions",
        "metrics/contact_outcomes",
        "metrics/daily_outcomes",
        "models/intent_model",
        "published/database",
    ):
        assert table in keys


def test_every_step_that_opens_the_database_is_in_the_single_writer_pool(built):
    for assets_def in built.resolve_asset_graph().assets_defs:
        if not assets_def.is_executable:  # the landing assets the sensor reports
            continue
        assert assets_def.op.pool == "cx_duckdb_writer", assets_def.keys or assets_def.check_keys
        if assets_def.keys:
            assert isinstance(assets_def.partitions_def, dg.DailyPartitionsDefinition)


def test_schedules_sensor_jobs_and_checks_exist(built):
    assert built.resolve_schedule_def("cx_pipeline_schedule")
    assert built.resolve_schedule_def("cx_training_schedule")
    assert built.resolve_sensor_def("landing_sensor")
    assert built.resolve_job_def("cx_train")
    check_names = {key.name for key in built.resolve_asset_graph().asset_check_keys}
    assert {"matches_contract", "counts_reconcile"} <= check_names


def test_partitions_start_where_the_data_does_and_a_configured_start_never_hides_data(built):
    partitions = next(a.partitions_def for a in built.resolve_asset_graph().assets_defs if a.partitions_def)
    assert partitions.get_first_partition_key() == "2017-10-01"
    config = load_config()
    assert first_partition_day(config, {date(2011, 3, 4), date(2017, 1, 1)}) == date(2011, 3, 4)
    config = config.merged({"partitions": {"start_date": "2023-01-01"}})
    assert first_partition_day(config, {date(2023, 6, 5)}) == date(2023, 1, 1)
    assert first_partition_day(config, {date(2017, 6, 5)}) == date(2017, 6, 5)


def test_the_code_location_reads_its_config_from_the_environment(tmp_path, monkeypatch):
    override = tmp_path / "my.yml"
    override.write_text('partitions: {start_date: "2019-05-01"}\noutcomes: {chain_lookback_days: 5}\n')
    monkeypatch.setenv("CX_SIGNALS_CONFIG", str(override))
    monkeypatch.setenv("CX_SIGNALS_DB", str(tmp_path / "cx.duckdb"))
    monkeypatch.setenv("CX_SIGNALS_LANDING", str(tmp_path / "nowhere"))
    location = defs()
    graph = location.resolve_asset_graph()
    partitions = next(a.partitions_def for a in graph.assets_defs if a.partitions_def)
    assert partitions.get_first_partition_key() == "2019-05-01"
    journeys = graph.get(dg.AssetKey(["signals", "journeys"]))
    mapping = journeys.partition_mappings[dg.AssetKey(["signals", "conversation_signals"])]
    assert (mapping.start_offset, mapping.end_offset) == (-5, 5)


def test_landing_and_raw_assets_carry_their_source_freshness_policy_with_the_configured_windows(tmp_path):
    override = tmp_path / "my.yml"
    override.write_text("freshness: {warn_hours: {telemetry: 2.5}, fail_hours: {telemetry: 6}}\n")
    config = load_config(override)
    graph = build_definitions(config, date(2017, 10, 1), "cx_data/cx.duckdb", "cx_data/landing").resolve_asset_graph()
    windows = {}
    for key in graph.get_all_asset_keys():
        policy = graph.get(key).freshness_policy
        if policy is not None:
            windows[key.to_user_string()] = (policy.warn_window.to_timedelta(), policy.fail_window.to_timedelta())
    day, two_days = timedelta(hours=26), timedelta(hours=50)
    assert windows == {
        "landing/transcripts": (day, two_days),
        "landing/telemetry": (timedelta(hours=2.5), timedelta(hours=6)),
        "landing/events": (day, two_days),
        "raw/conversations": (day, two_days),
        "raw/turns": (day, two_days),
        "raw/conversation_events": (day, two_days),
        "raw/telemetry": (timedelta(hours=2.5), timedelta(hours=6)),
        "raw/events": (day, two_days),
    }
    assert graph.get(dg.AssetKey(["raw", "turns"])).parent_keys == {dg.AssetKey(["landing", "transcripts"])}
    assert not graph.get(dg.AssetKey(["landing", "events"])).is_executable


def test_a_warning_window_not_shorter_than_the_failure_window_is_a_config_error(tmp_path):
    override = tmp_path / "my.yml"
    override.write_text("freshness: {warn_hours: {events: 50.0}}\n")
    with pytest.raises(ConfigError, match=r"freshness\.warn_hours\.events"):
        build_definitions(load_config(override), date(2017, 10, 1), "cx_data/cx.duckdb", "cx_data/landing")
    override.write_text("freshness: {fail_hours: {events: two}}\n")
    with pytest.raises(ConfigError, match=r"freshness\.fail_hours\.events"):
        load_config(override)
