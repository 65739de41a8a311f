import dagster as dg

from dagster_defs.definitions import defs


def test_definitions_load_with_every_public_table_as_an_asset():
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
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


def test_every_step_that_opens_the_database_is_in_the_single_writer_pool():
    for assets_def in defs.resolve_asset_graph().assets_defs:
        assert assets_def.op.pool == "cx_duckdb_writer", assets_def.keys or assets_def.check_keys
        if assets_def.keys:
            assert isinstance(assets_def.partitions_def, dg.DailyPartitionsDefinition)


def test_schedule_sensor_and_checks_exist():
    assert defs.resolve_schedule_def("cx_pipeline_schedule")
    assert defs.resolve_sensor_def("landing_sensor")
    check_names = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert {"matches_contract", "counts_reconcile"} <= check_names
