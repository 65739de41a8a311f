"""Zendesk's object samples (../shared/data/helpdesk/zendesk, from zenpy; GPL: read in place, never copied into the
project) through `cx-signals run`, every file unchanged: the ticket and the ticket-creation response become
conversations, the objects that are no ticket (a lone comment, user, rating, metric) are quarantined as files whose
format is unknown, with the formats tried."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from tests.conftest import cx

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "helpdesk" / "zendesk"

pytestmark = pytest.mark.real_data


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    if not (SAMPLES / "ticket.json").is_file():
        pytest.skip(f"Zendesk samples not found at {SAMPLES} (../shared/data is not part of a user's clone)")
    landing = tmp_path_factory.mktemp("zendesk") / "landing"
    (landing / "transcripts").mkdir(parents=True)
    for sample in SAMPLES.glob("*.json"):
        shutil.copyfile(sample, landing / "transcripts" / sample.name)
    db = landing.parent / "cx.duckdb"
    result = cx("run", "--landing", str(landing), "--db", str(db), timeout=900)
    return result, db


def test_tickets_become_conversations_of_their_requester(run):
    result, db = run
    # most sample files are no ticket, so more than half of what was read is quarantined: exit 3, data published
    assert result.returncode == 3, result.stdout[-3000:] + result.stderr[-3000:]
    ticket = json.loads((SAMPLES / "ticket.json").read_text())
    created = json.loads((SAMPLES / "ticket_audit.json").read_text())
    comment = next(e for e in created["audit"]["events"] if e["type"] == "Comment")
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT c.conversation_id, c.channel, c.started_at, t.speaker, t.text"
            " FROM raw.conversations AS c JOIN raw.turns AS t USING (conversation_id) ORDER BY 1"
        ).fetchall()
    assert [(r[0], r[1], r[3], r[4]) for r in rows] == [
        (str(ticket["id"]), "email", "customer", ticket["description"]),  # no comments: its description
        (str(created["ticket"]["id"]), "email", "customer", comment["body"]),  # the audit's public comment
    ]
    assert rows[0][2].isoformat() == ticket["created_at"].rstrip("Z")


def test_objects_that_are_no_ticket_are_quarantined_as_files_with_the_formats_tried(run):
    result, db = run
    with duckdb.connect(str(db), read_only=True) as con:
        rejected = dict(
            con.execute(
                "SELECT regexp_extract(source_file, '[^/]+$'), reason FROM quarantine.rejects"
                " WHERE rule = 'unknown_format'"
            ).fetchall()
        )
    for name in ("comment.json", "user.json", "satisfaction_rating.json", "ticket_metric.json"):
        assert "zendesk" in rejected[name] and "intercom" in rejected[name], name
    assert "zendesk" in result.stdout
