"""The Freshdesk adapter on a synthetic fixture (tests/data/adapters/freshdesk_tickets.json, written for these tests
from the public API v2 documentation of `GET /api/v2/tickets/{id}?include=conversations`)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cx_signals.adapters.base import UNMAPPABLE_RULE
from cx_signals.adapters.freshdesk import FreshdeskAdapter, csat
from cx_signals.config import load_config
from cx_signals.contracts import TimeBounds, input_contracts, validate_record
from cx_signals.landing import LandingRecord

FIXTURE = Path(__file__).parents[1] / "data" / "adapters" / "freshdesk_tickets.json"
CONFIG = load_config()
BOUNDS = TimeBounds.from_config(CONFIG, datetime(2026, 11, 1))
LIMITS = {k: CONFIG["ingest"][k] for k in ("max_text_chars", "placeholder_ids")}


def convert(values):
    """The array's elements as the landing reader gives a JSON array: one record each."""
    records = [LandingRecord(n, json.dumps(v), v) for n, v in enumerate(values, start=1)]
    out = list(FreshdeskAdapter().convert(records))
    loaded = {r.value["conversation_id"]: r.value for r in out if r.error is None}
    for record in loaded.values():
        assert validate_record(input_contracts()["transcripts"], record, BOUNDS, **LIMITS)[1] == []
    return loaded, [(r.line, r.error, r.rule) for r in out if r.error is not None]


@pytest.fixture
def tickets():
    return json.loads(FIXTURE.read_text())


def test_detects_freshdesk_tickets_and_lists_but_not_zendesk_ones(tickets):
    adapter = FreshdeskAdapter()
    assert adapter.detect(tickets[0]) and adapter.detect({"results": tickets}) and adapter.detect({"tickets": tickets})
    assert not adapter.detect({"id": 1, "requester_id": 2, "created_at": "x", "via": {}, "comments": []})
    assert not adapter.detect(tickets)  # a list is not one record: the reader gives its elements


def test_description_and_public_conversations_become_turns_private_notes_never(tickets):
    loaded, _ = convert(tickets)
    ticket = loaded["20"]
    assert [(t["turn_id"], t["speaker"], t["agent_id"], t["text"]) for t in ticket["turns"]] == [
        ("20-description", "customer", None, "My package is damaged"),
        ("201", "agent", "4001", "Sorry! Could you send a photo?"),
        ("203", "customer", None, "Here it is"),
        ("204", "agent", "4002", "A replacement ships today."),  # a public note by another agent
    ]
    assert "carrier claim" not in json.dumps(ticket)


def test_ticket_fields_give_customer_channel_csat_and_disposition(tickets):
    loaded, _ = convert(tickets)
    first = loaded["20"]
    assert (first["customer_id"], first["channel"], first["queue"]) == ("3001", "chat", "12")
    assert first["disposition"] == "resolved"
    assert first["csat"] == 4  # the latest rating, 102 on Freshdesk's scale
    outbound = loaded["21"]
    assert (outbound["channel"], outbound["disposition"], outbound["csat"]) == ("email", None, None)
    assert [(t["speaker"], t["agent_id"]) for t in outbound["turns"]] == [("agent", "4001")]


def test_unmappable_tickets_are_quarantined_with_their_reason(tickets):
    loaded, rejected = convert(tickets)
    assert set(loaded) == {"20", "21"}
    assert rejected == [
        (3, "ticket 22: no requester_id: its customer is unknown", UNMAPPABLE_RULE),
        (4, "ticket 23: conversation 230's created_at 'garbage' is not a timestamp", UNMAPPABLE_RULE),
    ]
    _, rejected = convert([{"id": 5}])
    assert rejected[0][1].startswith("ticket 5: not a Freshdesk ticket")


def test_a_ticket_with_an_unknown_source_code_is_email_and_times_are_utc(tickets):
    ticket = tickets[3]
    ticket["conversations"] = []
    loaded, _ = convert([ticket])
    assert loaded["23"]["channel"] == "email"
    assert loaded["23"]["started_at"] == "2024-07-02T03:30:00Z"


def test_csat_maps_freshdesk_scales_onto_one_to_five():
    assert [csat(v) for v in (103, 102, 101, 100, -101, -102, -103)] == [5, 4, 4, 3, 2, 2, 1]
    assert csat(None) is None and csat(99) is None and csat("103") == 5 and csat(True) is None


@given(st.integers(-200, 200))
def test_csat_is_on_the_contract_scale_or_none(score):
    value = csat(score)
    assert value is None if not 100 <= abs(score) <= 103 else 1 <= value <= 5
