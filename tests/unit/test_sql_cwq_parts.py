"""The configurable parts of containment-with-quality (outcomes.cwq_parts, sql/metrics/contact_outcomes.sql) on
hand-made contacts and signals.compliance rows."""

from datetime import datetime
from typing import get_args

import pytest

from cx_signals.config import ConfigError, CwqPart, load_config
from cx_signals.contracts import table_contracts
from tests.conftest import insert, run_query
from tests.unit.test_sql_metrics import DAY, contact, friction_session

BOT = {"bot": 2}


def disclosure(cid: str, name: str, status: str) -> dict:
    """A signals.compliance row of conversation `cid` (started on DAY) with `status` said, late or missing."""
    said = status != "missing"
    return {
        "partition_date": DAY,
        "conversation_id": cid,
        "customer_key": "k",
        "channel": "chat",
        "intent": "billing",
        "disclosure": name,
        "said": said,
        "said_by": "bot" if said else None,
        "status": status,
    }


def with_parts(con, parts: list[str], contacts, sessions=(), compliance=()):
    """metrics.contact_outcomes of `contacts` with outcomes.cwq_parts = `parts`, by conversation id."""
    insert(con, "signals.conversation_signals", list(contacts))
    insert(con, "signals.session_friction", list(sessions))
    insert(con, "signals.compliance", list(compliance))
    config = load_config().merged({"outcomes": {"cwq_parts": parts}})
    rows = run_query(con, "metrics.contact_outcomes", "metrics/contact_outcomes", [DAY], config)
    return {r["conversation_id"]: r for r in rows}


CONTACTS = [
    contact("good", 0, customer="k1", **BOT),
    contact("negative", 0, customer="k2", sentiment_end=-0.5, **BOT),
    contact("low_csat_negative", 0, customer="k3", csat=1, sentiment_end=-0.5, **BOT),
    contact("friction_after", 0, customer="k4", **BOT),
    contact("missing", 0, customer="k5", **BOT),
    contact("late", 0, customer="k6", **BOT),
    contact("agent_missing", 0, customer="k7", agent=2),
]
SESSIONS = [friction_session("k4", datetime(2026, 10, 1, 6))]
COMPLIANCE = [
    disclosure("good", "call_recording", "said"),
    disclosure("missing", "call_recording", "said"),
    disclosure("missing", "risk_warning", "missing"),
    disclosure("late", "call_recording", "late"),
    disclosure("agent_missing", "call_recording", "missing"),
]


def test_default_parts_ignore_disclosures(con):
    rows = with_parts(con, load_config().outcomes.cwq_parts, CONTACTS, SESSIONS, COMPLIANCE)
    assert rows["good"]["contained_with_quality"] and rows["good"]["cwq_broken_by"] is None
    assert rows["missing"]["contained_with_quality"] and not rows["missing"]["cwq_failed_disclosures"]
    assert rows["negative"]["cwq_broken_by"] == "sentiment" and rows["negative"]["cwq_failed_sentiment"]
    assert rows["friction_after"]["cwq_broken_by"] == "friction"
    # both parts failed: the first listed names the break, each failed flag stays true
    both = rows["low_csat_negative"]
    assert both["cwq_broken_by"] == "csat" and both["cwq_failed_csat"] and both["cwq_failed_sentiment"]
    assert rows["agent_missing"]["cwq_broken_by"] is None and not rows["agent_missing"]["contained"]


def test_a_missing_disclosure_breaks_cwq_and_a_late_one_does_not(con):
    rows = with_parts(con, ["repeat", "friction", "csat", "sentiment", "disclosures"], CONTACTS, SESSIONS, COMPLIANCE)
    missing = rows["missing"]
    assert not missing["contained_with_quality"]
    assert missing["cwq_failed_disclosures"] and missing["cwq_broken_by"] == "disclosures"
    assert rows["late"]["contained_with_quality"] and not rows["late"]["cwq_failed_disclosures"]
    assert rows["good"]["contained_with_quality"]
    # an escalated contact is not contained: its missing disclosure is a compliance finding, not a CwQ failure
    assert not rows["agent_missing"]["cwq_failed_disclosures"] and rows["agent_missing"]["cwq_broken_by"] is None


def test_a_part_left_out_never_fails_and_the_order_names_the_break(con):
    rows = with_parts(con, ["disclosures", "csat", "repeat", "friction"], CONTACTS, SESSIONS, COMPLIANCE)
    # sentiment is not a part: a negative ending alone keeps CwQ and its flag stays false
    assert rows["negative"]["contained_with_quality"] and not rows["negative"]["cwq_failed_sentiment"]
    assert rows["low_csat_negative"]["cwq_broken_by"] == "csat"
    assert not rows["low_csat_negative"]["cwq_failed_sentiment"]
    assert rows["missing"]["cwq_broken_by"] == "disclosures"
    for row in rows.values():
        failed = [p for p in get_args(CwqPart) if row[f"cwq_failed_{p}"]]
        assert row["contained_with_quality"] == (row["contained"] and not failed)
        assert (row["cwq_broken_by"] is None) == (not failed)


@pytest.mark.parametrize("parts", [[], ["repeat", "repeat"], ["repeat", "speed"]])
def test_cwq_parts_must_be_known_unique_and_not_empty(parts):
    with pytest.raises(ConfigError, match="cwq_parts"):
        load_config().merged({"outcomes": {"cwq_parts": parts}})


def test_the_contract_allows_exactly_the_configurable_parts():
    fields = {f.name: f for f in table_contracts()["metrics.contact_outcomes"].fields}
    assert list(fields["cwq_broken_by"].allowed) == list(get_args(CwqPart))
    assert {f"cwq_failed_{p}" for p in get_args(CwqPart)} <= set(fields)
