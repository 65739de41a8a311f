"""The Intercom adapter on a synthetic fixture (tests/data/adapters/intercom_conversations.json, written for these
tests in the shape of Intercom's REST API 2.11 responses)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from cx_signals.adapters.base import UNMAPPABLE_RULE
from cx_signals.adapters.intercom import IntercomAdapter
from cx_signals.config import load_config
from cx_signals.contracts import TimeBounds, input_contracts, validate_record
from cx_signals.landing import LandingRecord

FIXTURE = Path(__file__).parents[1] / "data" / "adapters" / "intercom_conversations.json"
CONFIG = load_config()
BOUNDS = TimeBounds.from_config(CONFIG, datetime(2026, 11, 1))
LIMITS = {k: CONFIG["ingest"][k] for k in ("max_text_chars", "placeholder_ids")}


def convert(value):
    out = list(IntercomAdapter().convert([LandingRecord(1, json.dumps(value), value)]))
    loaded = {r.value["conversation_id"]: r.value for r in out if r.error is None}
    for record in loaded.values():
        assert validate_record(input_contracts()["transcripts"], record, BOUNDS, **LIMITS)[1] == []
    return loaded, [(r.error, r.rule) for r in out if r.error is not None]


@pytest.fixture
def listed():
    return json.loads(FIXTURE.read_text())


def test_detects_conversations_and_lists_only(listed):
    adapter = IntercomAdapter()
    assert adapter.detect(listed) and adapter.detect(listed["conversations"][0])
    assert not adapter.detect({"type": "tag", "id": "1"})
    assert not adapter.detect({"type": "conversation_part", "id": "1"})
    assert not adapter.detect(["conversation"])


def test_parts_become_turns_by_author_type_and_notes_never_do(listed):
    loaded, _ = convert(listed)
    conversation = loaded["8001"]
    assert [(t["turn_id"], t["speaker"], t["agent_id"], t["ts"]) for t in conversation["turns"]] == [
        ("8001-source", "customer", None, "2024-06-01T09:00:00Z"),
        ("p1", "bot", None, "2024-06-01T09:00:30Z"),
        ("p2", "customer", None, "2024-06-01T09:01:40Z"),
        ("p5", "agent", "a-1", "2024-06-01T09:05:00Z"),
        ("p7", "agent", "a-2", "2024-06-01T10:00:00Z"),  # a close with a message is a turn
    ]
    assert conversation["turns"][0]["text"] == "I can't log in"
    assert "VIP" not in json.dumps(conversation)


def test_assignments_give_a_handoff_then_transfers(listed):
    loaded, _ = convert(listed)
    assert [(e["event_type"], e["agent_id"], e["queue"], e["ts"]) for e in loaded["8001"]["events"]] == [
        ("handoff_to_agent", "a-1", None, "2024-06-01T09:01:50Z"),
        ("transfer", None, "77", "2024-06-01T09:06:40Z"),
    ]


def test_conversation_fields_give_customer_channel_csat_and_disposition(listed):
    loaded, _ = convert(listed)
    first, second = loaded["8001"], loaded["8002"]
    assert (first["customer_id"], first["channel"], first["queue"]) == ("u-1", "chat", "55")
    assert (first["csat"], first["disposition"]) == (4, "resolved")
    assert (first["started_at"], first["ended_at"]) == ("2024-06-01T09:00:00Z", "2024-06-01T10:00:00Z")
    # no contact listed: the lead who wrote the opening message is the customer
    assert (second["customer_id"], second["channel"]) == ("l-9", "email")
    assert (second["csat"], second["disposition"]) == (None, None)


def test_unmappable_conversations_are_quarantined_with_their_reason(listed):
    loaded, rejected = convert(listed)
    assert set(loaded) == {"8001", "8002"}
    assert rejected == [
        ("conversation 8003: no contact (user or lead): its customer is unknown", UNMAPPABLE_RULE),
        ("conversation 8004: created_at 'not a time' is not a timestamp", UNMAPPABLE_RULE),
    ]
    _, rejected = convert({"type": "conversation.list", "pages": {}})
    assert rejected == [("not an Intercom conversation or conversation list", UNMAPPABLE_RULE)]
