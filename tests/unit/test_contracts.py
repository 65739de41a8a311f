from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cx_signals.contracts import TimeBounds, input_contracts, parse_timestamp, validate_record

BOUNDS = TimeBounds.around(datetime(2026, 11, 1), date(2024, 1, 1), 24)


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
    return [(v.rule, v.field) for v in validate_record(input_contracts()[source], record, BOUNDS)[1]]


def test_valid_conversation_is_typed_in_utc():
    typed, violations = validate_record(
        input_contracts()["transcripts"], conversation(started_at="2026-10-01T12:00:00+02:00"), BOUNDS
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
        ({"started_at": "2001-01-01T00:00:00Z"}, ("too_old_timestamp", "started_at")),
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
        validate_record(input_contracts()[source], {"ts": value, "started_at": value, "event_type": value}, BOUNDS)
