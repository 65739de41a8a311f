"""The Zendesk adapter on synthetic fixtures (tests/data/adapters/zendesk_*.json, written for these tests)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from cx_signals.adapters.base import UNMAPPABLE_RULE
from cx_signals.adapters.zendesk import ZendeskAdapter
from cx_signals.config import load_config
from cx_signals.contracts import TimeBounds, input_contracts, validate_record
from cx_signals.landing import LandingRecord

DATA = Path(__file__).parents[1] / "data" / "adapters"
CONFIG = load_config()
BOUNDS = TimeBounds.from_config(CONFIG, datetime(2026, 11, 1))
LIMITS = {k: CONFIG["ingest"][k] for k in ("max_text_chars", "placeholder_ids")}


def convert(value):
    out = list(ZendeskAdapter().convert([LandingRecord(1, json.dumps(value), value)]))
    loaded = {r.value["conversation_id"]: r.value for r in out if r.error is None}
    for record in loaded.values():
        assert validate_record(input_contracts()["transcripts"], record, BOUNDS, **LIMITS)[1] == []
    return loaded, [(r.error, r.rule) for r in out if r.error is not None]


@pytest.fixture
def tickets():
    return json.loads((DATA / "zendesk_tickets.json").read_text())


def test_detects_tickets_ticket_responses_and_lists_but_not_other_objects(tickets):
    adapter = ZendeskAdapter()
    assert adapter.detect(tickets)
    assert adapter.detect(tickets["tickets"][0])
    assert adapter.detect(json.loads((DATA / "zendesk_ticket_audits.json").read_text()))
    assert not adapter.detect({"id": 1, "score": "good", "requester_id": 2, "created_at": "x", "ticket_id": 3})
    assert not adapter.detect({"id": 1, "requester_id": 2, "created_at": "x", "conversations": [], "source": 1})
    assert not adapter.detect({"conversation_id": "c1"})


def test_public_comments_become_turns_by_role_and_private_ones_never_do(tickets):
    loaded, _ = convert(tickets)
    ticket = loaded["501"]
    assert [(t["turn_id"], t["speaker"], t["agent_id"]) for t in ticket["turns"]] == [
        ("4", "agent", "7001"),  # 09:00+02:00 is 07:00Z: turns are in time order
        ("1", "customer", None),
        ("2", "system", None),  # a trigger's comment
        ("5", "customer", None),  # a CC'd end user: a customer by role
        ("6", "agent", "8001"),  # an admin
    ]
    assert "Internal" not in json.dumps(ticket)
    assert ticket["turns"][0]["text"] == "Sorry about that & thanks for waiting."
    assert ticket["turns"][0]["ts"] == "2024-05-02T07:00:00Z"


def test_ticket_fields_give_customer_channel_csat_and_disposition(tickets):
    loaded, _ = convert(tickets)
    assert loaded["501"]["customer_id"] == "9001"
    assert (loaded["501"]["channel"], loaded["501"]["csat"], loaded["501"]["disposition"]) == ("email", 5, "resolved")
    assert loaded["501"]["queue"] == "300"
    assert loaded["501"]["consent_analytics"] is True
    # no comments: the description is the one turn, by the submitter (an agent here, outbound on Twitter)
    assert (loaded["502"]["channel"], loaded["502"]["csat"], loaded["502"]["disposition"]) == ("social", None, None)
    assert [(t["speaker"], t["agent_id"], t["text"]) for t in loaded["502"]["turns"]] == [
        ("agent", "7001", "Reaching out about your tweet")
    ]


def test_unmappable_tickets_are_quarantined_with_their_reason_and_the_others_load(tickets):
    loaded, rejected = convert(tickets)
    assert set(loaded) == {"501", "502"}
    assert rejected == [
        ("ticket 503: no requester_id: its customer is unknown", UNMAPPABLE_RULE),
        ("ticket 504: comment 40's created_at is missing", UNMAPPABLE_RULE),
    ]


def test_without_users_the_requester_is_the_customer_and_other_authors_agents(tickets):
    del tickets["users"]
    loaded, _ = convert(tickets)
    speakers = {t["turn_id"]: t["speaker"] for t in loaded["501"]["turns"]}
    assert speakers == {"1": "customer", "2": "system", "4": "agent", "5": "agent", "6": "agent"}


def test_audits_give_comments_and_transfers():
    loaded, _ = convert(json.loads((DATA / "zendesk_ticket_audits.json").read_text()))
    ticket = loaded["610"]
    assert ticket["channel"] == "chat" and ticket["disposition"] is None
    assert [(t["turn_id"], t["speaker"], t["ts"]) for t in ticket["turns"]] == [
        ("11", "customer", "2024-06-01T09:00:00Z"),
        ("21", "agent", "2024-06-01T09:04:00Z"),
    ]
    assert [(e["event_type"], e["agent_id"], e["queue"]) for e in ticket["events"]] == [
        ("transfer", "7200", None),
        ("transfer", None, "44"),
    ]


def test_a_record_that_is_no_ticket_is_quarantined():
    _, rejected = convert({"tickets": [{"id": 1}]})
    assert rejected == [("not a Zendesk ticket, ticket response or tickets list response", UNMAPPABLE_RULE)]
