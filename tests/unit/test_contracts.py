from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cx_signals.config import load_config
from cx_signals.contracts import (
    PII_CLASSES,
    TimeBounds,
    input_contracts,
    parse_contract,
    parse_timestamp,
    validate_record,
)

CONFIG = load_config()
BOUNDS = TimeBounds.from_config(CONFIG, datetime(2026, 11, 1))
LIMITS = {k: CONFIG["ingest"][k] for k in ("max_text_chars", "placeholder_ids")}


def conversation(**overrides):
    record = {
        "conversation_id": "c1",
        "customer_id": "C1",
        "channel": "chat",
        "started_at": "2026-10-01T10:00:00Z",
        "ended_at": "2026-10-01T10:05:00+00:00",
        "consent_analytics": True,
        "turns": [{"turn_id": "t1", "speaker": "customer", "ts": "2026-10-01T10:00:00Z", "text": "hi"}],
    }
    record.update(overrides)
    return record


def rules(record, source="transcripts"):
    return [(v.rule, v.field) for v in validate_record(input_contracts()[source], record, BOUNDS, **LIMITS)[1]]


def test_valid_conversation_is_typed_in_utc():
    typed, violations = validate_record(
        input_contracts()["transcripts"], conversation(started_at="2026-10-01T12:00:00+02:00"), BOUNDS, **LIMITS
    )
    assert violations == []
    assert typed["started_at"] == datetime(2026, 10, 1, 10, 0)
    assert typed["turns"][0]["speaker"] == "customer"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"customer_id": None}, ("missing_required", "customer_id")),
        ({"customer_id": "  "}, ("missing_required", "customer_id")),
        ({"channel": "pigeon"}, ("not_allowed", "channel")),
        ({"csat": 7}, ("out_of_range", "csat")),
        ({"csat": "five"}, ("wrong_type", "csat")),
        ({"consent_analytics": "maybe"}, ("wrong_type", "consent_analytics")),
        ({"started_at": "yesterday"}, ("bad_timestamp", "started_at")),
        (
            {"started_at": "2099-01-01T00:00:00Z", "ended_at": "2099-01-01T01:00:00Z"},
            ("future_timestamp", "started_at"),
        ),
        ({"started_at": "1989-12-31T23:59:59Z"}, ("too_old_timestamp", "started_at")),
        ({"ended_at": "2026-10-01T09:00:00Z"}, ("out_of_order", "ended_at")),
        ({"turns": "not a list"}, ("wrong_type", "turns")),
        (
            {"turns": [{"turn_id": "t1", "speaker": "robot", "ts": "2026-10-01T10:00:00Z"}]},
            ("not_allowed", "turns[0].speaker"),
        ),
        ({"turns": [{"turn_id": "t1", "speaker": "agent"}]}, ("missing_required", "turns[0].ts")),
        ({"turns": [7]}, ("not_an_object", "turns[0]")),
    ],
)
def test_each_broken_rule_is_named(overrides, expected):
    assert expected in rules(conversation(**overrides))


def test_not_an_object():
    assert rules(["a", "list"]) == [("not_an_object", None)]


def test_csv_strings_are_coerced():
    typed, violations = validate_record(
        input_contracts()["telemetry"],
        {
            "ts": "2026-10-01 10:00:00",
            "anonymous_id": "a",
            "app": "web",
            "kind": "latency",
            "name": "/",
            "status_code": "200",
            "duration_ms": "12.5",
        },
        BOUNDS,
        **LIMITS,
    )
    assert violations == []
    assert typed["status_code"] == 200 and typed["duration_ms"] == 12.5


def test_telemetry_needs_a_customer_or_anonymous_id():
    record = {"ts": "2026-10-01T10:00:00Z", "app": "web", "kind": "error", "name": "E"}
    assert ("missing_required", "customer_id|anonymous_id") in rules(record, "telemetry")


def test_event_properties_must_be_a_json_object():
    record = {
        "event_id": "e",
        "ts": "2026-10-01T10:00:00Z",
        "anonymous_id": "a",
        "event_type": "click",
        "properties": "[1, 2]",
    }
    assert ("wrong_type", "properties") in rules(record, "events")


def test_epoch_milliseconds_and_seconds_agree():
    assert parse_timestamp(1759312800000) == parse_timestamp(1759312800) == datetime(2025, 10, 1, 10, 0)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_iso_round_trip(moment):
    assert parse_timestamp(moment.isoformat() + "Z") == moment


@given(st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.booleans(), st.none(), st.lists(st.integers())))
def test_validation_never_raises(value):
    for source in input_contracts():
        record = {"ts": value, "started_at": value, "event_type": value, "session_id": value}
        validate_record(input_contracts()[source], record, BOUNDS, **LIMITS)


def test_the_time_floor_is_ingest_min_timestamp_not_the_first_partition():
    # 2011 and 2017 exports used to be rejected as too old because the floor was partitions.start_date (2024)
    for started in ("2011-03-01T09:00:00Z", "2017-06-30T23:00:00Z"):
        ended = started.replace(":00:00Z", ":05:00Z")
        turns = [{"turn_id": "t1", "speaker": "customer", "ts": started, "text": "hi"}]
        assert rules(conversation(started_at=started, ended_at=ended, turns=turns)) == []
    assert BOUNDS.earliest == datetime(1990, 1, 1)
    assert BOUNDS.latest == datetime(2026, 11, 2)


def test_bounds_follow_the_config_they_are_built_from():
    config = {"ingest": {"min_timestamp": "2015-01-01", "max_future_skew_hours": 2}}
    bounds = TimeBounds.from_config(config, datetime(2026, 11, 1))
    assert (bounds.earliest, bounds.latest) == (datetime(2015, 1, 1), datetime(2026, 11, 1, 2))
    assert ("too_old_timestamp", "started_at") in [
        (v.rule, v.field)
        for v in validate_record(
            input_contracts()["transcripts"], conversation(started_at="2011-03-01"), bounds, **LIMITS
        )[1]
    ]


def test_every_field_with_a_pii_class_says_in_its_description_what_happens_to_it():
    promise = {
        "identifier": "pseudonymised",
        "free_text": "PII-redacted",
        "json_text": "PII-redacted",
        "id_text": "pii-",
    }
    assert set(promise) == set(PII_CLASSES)
    for contract in input_contracts().values():
        for f in (*contract.fields, *(f for item in contract.items.values() for f in item)):
            if f.pii:
                assert promise[f.pii].lower() in f.description.lower(), (contract.name, f.name)


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ({"name": "page", "type": "string", "pii": "free-text"}, "unknown pii class"),
        ({"name": "x", "type": "integer", "id": True}, "only string fields can be ids"),
    ],
)
def test_a_contract_with_an_unknown_pii_class_or_a_non_string_id_is_refused(field, message):
    # a misspelt class would silently store the field unredacted
    with pytest.raises(ValueError, match=message):
        parse_contract({"name": "bad", "fields": [field]})


def test_a_contract_window_is_days_or_a_parameter_path_with_an_offset():
    raw = {"name": "t", "table": "metrics.t", "sql": "metrics/t", "window": {"before": "priorities.window_days - 1"}}
    contract = parse_contract(raw)
    assert contract.sql == "metrics/t"
    assert contract.window.days(CONFIG) == (CONFIG["priorities"]["window_days"] - 1, 0)
    assert parse_contract({**raw, "window": {"before": 2, "after": "outcomes.chain_lookback_days + 3"}}).window.days(
        CONFIG
    ) == (2, CONFIG["outcomes"]["chain_lookback_days"] + 3)
    for bad, message in (("two days", "whole number"), ("anomalies.baseline_days - 99", "must not be negative")):
        with pytest.raises(ValueError, match=message):
            parse_contract({**raw, "window": {"before": bad}}).window.days(CONFIG)
    with pytest.raises(ValueError, match=r"no parameter outcomes\.no_such_days"):
        parse_contract({**raw, "window": {"before": "outcomes.no_such_days"}}).window.days(CONFIG)
    with pytest.raises(TypeError):
        parse_contract({**raw, "window": {"behind": 3}})
