"""Intercom's official response examples of its conversation endpoints (../shared/data/helpdesk/intercom, MIT, from
the REST API 2.11 description) through `cx-signals run`: each conversation response body, unchanged, as the landing
file an API export writes. Notes never become turns, admins are agents, users customers, an assignment a handoff."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.conftest import cx

INTERCOM = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "helpdesk" / "intercom"
EXAMPLES = INTERCOM / "conversation_response_examples_v2.11.json"

pytestmark = pytest.mark.real_data


@pytest.fixture(scope="module")
def responses() -> dict[str, dict]:
    """The examples' successful conversation and conversation-list responses, by endpoint and case."""
    if not EXAMPLES.is_file():
        pytest.skip(f"Intercom examples not found at {EXAMPLES} (../shared/data is not part of a user's clone)")
    examples = json.loads(EXAMPLES.read_text())
    return {
        f"{endpoint} | {case}": body
        for endpoint, cases in examples.items()
        for case, body in cases.items()
        if case.startswith("200") and body.get("type") in ("conversation", "conversation.list")
    }


@pytest.fixture(scope="module")
def database(responses, tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("intercom") / "landing"
    (landing / "transcripts").mkdir(parents=True)
    for n, body in enumerate(responses.values()):
        (landing / "transcripts" / f"intercom-response-{n:02d}.json").write_text(json.dumps(body, indent=1))
    db = landing.parent / "cx.duckdb"
    result = cx("run", "--landing", str(landing), "--db", str(db), timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.count("intercom") >= len(responses)  # each file read as intercom
    return db


def _conversations(body: dict) -> list[dict]:
    return body["conversations"] if body["type"] == "conversation.list" else [body]


def test_every_conversation_loads_with_its_contact_as_customer(responses, database):
    expected = {c["id"]: c for body in responses.values() for c in _conversations(body)}
    with duckdb.connect(str(database), read_only=True) as con:
        stored = dict(con.execute("SELECT conversation_id, channel FROM raw.conversations").fetchall())
    assert stored == dict.fromkeys(expected, "chat")  # every example is a Messenger conversation


def test_turns_follow_parts_with_a_body_and_notes_never_become_turns(responses, database):
    with duckdb.connect(str(database), read_only=True) as con:
        turns = con.execute(
            "SELECT conversation_id, speaker, text FROM raw.turns ORDER BY conversation_id, turn_index"
        ).fetchall()
    by_conversation: dict[str, list[tuple[str, str]]] = {}
    for cid, speaker, text in turns:
        by_conversation.setdefault(cid, []).append((speaker, text))
    noted = _conversations(responses["POST /conversations/{conversation_id}/reply | 200 Admin note reply"])[0]
    note = noted["conversation_parts"]["conversation_parts"][0]
    assert note["part_type"] == "note"
    assert by_conversation[noted["id"]] == [("agent", "this is the message body")]  # the source, not the note
    replied = _conversations(responses["POST /conversations/{conversation_id}/reply | 200 User reply"])[0]
    part = replied["conversation_parts"]["conversation_parts"][0]
    assert (part["author"]["type"], part["body"]) == ("user", "<p>Thanks again :)</p>")
    assert by_conversation[replied["id"]] == [("agent", "this is the message body"), ("customer", "Thanks again :)")]


def test_an_assignment_to_an_admin_is_a_handoff(responses, database):
    assigned = _conversations(responses["POST /conversations/{conversation_id}/parts | 200 Assign a conversation"])[0]
    with duckdb.connect(str(database), read_only=True) as con:
        events = con.execute("SELECT conversation_id, event_type FROM raw.conversation_events").fetchall()
    assert events == [(assigned["id"], "handoff_to_agent")]
