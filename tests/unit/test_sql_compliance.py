"""Required disclosures (sql/signals/compliance.sql) on hand-made conversations and turns."""

from datetime import date, datetime, timedelta

import pytest

from cx_signals.config import load_config
from tests.conftest import insert, run_query, signals_row

DAY = date(2026, 10, 1)
T0 = datetime(2026, 10, 1, 9)
DISCLOSURES = {
    "journeys": [{"name": "cards", "intents": ["card_lost"]}],
    "disclosures": [
        {
            "name": "call_recording",
            "description": "recording notice",
            "phrases": [r"\bcalls? (?:are|may be) recorded\b"],
            "speakers": ["agent", "bot"],
            "channels": ["voice"],
            "intents": [],
            "within_seconds": 60,
        },
        {
            "name": "identity_check",
            "description": "security checks",
            "phrases": [r"\bverify your identity\b", r"\bsecurity questions?\b"],
            "speakers": ["agent"],
            "channels": [],
            "intents": ["card_lost"],
            "within_seconds": None,
        },
    ],
}


def conversation(cid, channel, intent, turns, customer="k1"):
    """A conversation started at T0 with `turns`: (seconds after the start, speaker, text), as table rows."""
    return (
        signals_row(cid, T0, 0.5, channel=channel, labelled_intent=intent, customer_key=customer),
        [
            {"partition_date": DAY, "conversation_id": cid, "turn_index": i, "turn_id": f"t{i}", "speaker": speaker,
             "ts": T0 + timedelta(seconds=seconds), "text": text}
            for i, (seconds, speaker, text) in enumerate(turns)
        ],
    )  # fmt: skip


def load(con, *conversations):
    """Insert the conversations' rows (each insert replaces its days, hence all at once)."""
    insert(con, "signals.conversation_signals", [signals for signals, _ in conversations])
    insert(con, "raw.turns", [turn for _, turns in conversations for turn in turns])


def compliance(con, playbook=DISCLOSURES):
    config = load_config().merged({"playbook": {"name": "test", **playbook}})
    rows = run_query(con, "signals.compliance", "signals/compliance", [DAY], config)
    return {(r["conversation_id"], r["disclosure"]): r for r in rows}


def test_said_late_and_missing(con):
    load(
        con,
        conversation("on_time", "voice", "card_lost", [
            (0, "bot", "Welcome. Calls are recorded."), (20, "agent", "First I must verify your identity."),
        ]),
        conversation("late", "voice", "card_lost", [
            (0, "bot", "Welcome."), (90, "agent", "Calls may be recorded. Answer the security questions please."),
        ]),
        conversation("missing", "voice", "card_lost", [(0, "bot", "Welcome."), (30, "agent", "How can I help?")]),
    )  # fmt: skip
    rows = compliance(con)
    assert set(rows) == {(c, d) for c in ("on_time", "late", "missing") for d in ("call_recording", "identity_check")}
    on_time = rows["on_time", "call_recording"]
    assert (on_time["said"], on_time["said_by"], on_time["status"], on_time["first_turn_index"]) == (
        True, "bot", "said", 0,
    )  # fmt: skip
    assert on_time["seconds_into_conversation"] == 0 and on_time["within_seconds"] == 60
    assert rows["on_time", "identity_check"]["said_by"] == "agent"
    assert rows["on_time", "identity_check"]["journey"] == "cards"
    late = rows["late", "call_recording"]
    assert (late["said"], late["status"], late["seconds_into_conversation"]) == (True, "late", 90)
    assert rows["late", "identity_check"]["status"] == "said"  # no deadline
    for disclosure in ("call_recording", "identity_check"):
        missing = rows["missing", disclosure]
        assert (missing["said"], missing["status"], missing["said_by"], missing["first_said_at"]) == (
            False, "missing", None, None,
        )  # fmt: skip


def test_applies_only_to_its_channels_intents_and_speakers(con):
    # chat: no recording notice; another intent: no identity check; a bot-only conversation: no agent disclosure
    load(
        con,
        conversation("chat", "chat", "card_lost", [(0, "bot", "Hi."), (10, "agent", "Let me verify your identity.")]),
        conversation("other_intent", "voice", "billing", [(0, "agent", "Calls are recorded.")]),
        conversation("bot_only", "chat", "card_lost", [(0, "bot", "Please verify your identity.")]),
    )
    rows = compliance(con)
    assert set(rows) == {("chat", "identity_check"), ("other_intent", "call_recording")}
    assert rows["other_intent", "call_recording"]["journey"] is None  # billing is in no journey of the playbook


def test_customer_and_system_turns_do_not_count(con):
    load(con, conversation("c", "voice", "card_lost", [
        (0, "customer", "I know calls are recorded."), (5, "system", "Calls are recorded."),
        (10, "agent", "Hello, verify your identity please."),
    ]))  # fmt: skip
    rows = compliance(con)
    assert rows["c", "call_recording"]["status"] == "missing"
    assert rows["c", "identity_check"]["status"] == "said"


def test_refusing_customers_are_left_out(con):
    load(con, conversation("refused", "voice", "card_lost", [(0, "agent", "Calls are recorded.")], customer="k9"))
    insert(con, "raw.conversations", [{"partition_date": DAY, "conversation_id": "refused", "customer_key": "k9",
                                       "consent_analytics": False}])  # fmt: skip
    assert compliance(con) == {}


@pytest.mark.parametrize("playbook", [None, "banking", "telecom", "retail", "healthcare"])
def test_every_pack_runs_and_no_playbook_gives_no_rows(con, playbook):
    load(con, conversation("c", "voice", "card_lost_stolen", [(0, "bot", "Calls are recorded."), (9, "agent", "Hi.")]))
    config = load_config(playbook=playbook)
    rows = run_query(con, "signals.compliance", "signals/compliance", [DAY], config)
    # every pack's phrases are RE2 regexes DuckDB runs; every pack checks the recording notice on voice
    assert [(r["disclosure"], r["status"]) for r in rows if r["disclosure"] == "call_recording"] == (
        [] if playbook is None else [("call_recording", "said")]
    )
