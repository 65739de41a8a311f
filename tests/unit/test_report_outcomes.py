"""The report's bot-outcome, required-disclosure and next-issue sections on hand-made databases: the shares, the lists
behind the tiles, the change against the previous period, and a next-issue period whose contacts have all had the
whole window to show one."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from cx_signals.config import load_config
from cx_signals.db import ensure_schema
from cx_signals.report import build_report
from tests.conftest import insert
from tests.unit.test_report import _daily_row, _section, insert_by_name, make_report_db


def _flat(html: str, section: str) -> str:
    return " ".join(_section(html, section).split())


def _list(html: str, list_id: str) -> str:
    lists = _section(html, "lists")
    start = lists.index(f'id="{list_id}"')
    return " ".join(lists[start : lists.index("</details>", start)].split())


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("outcomes")
    parameters = load_config(playbook="banking")
    db = make_report_db(folder / "cx.duckdb")
    return build_report(db, folder / "report.html", parameters=parameters).out.read_text(encoding="utf-8")


def test_bot_outcomes_shares_reasons_and_channels(report: str) -> None:
    bots = _flat(report, "bots")
    assert "How the <strong>10</strong> conversations the bot took part in" in bots
    # one outcome each: 2 confirmed, 1 assumed, 3 escalated, 1 abandoned, 3 failed of 10
    for tile, share, k in (
        ("confirmed-resolution", "20.0%", 2),
        ("assumed-resolution", "10.0%", 1),
        ("escalated", "30.0%", 3),
        ("abandoned", "10.0%", 1),
        ("failed", "30.0%", 3),
        ("with-loops", "20.0%", 2),
    ):
        card = bots[bots.index(f'id="kpi-bot-{tile}"') :]
        assert f'<span class="value">{share}</span>' in card[:200], tile
        assert f"{k} conversations · 95% interval" in card[:400], tile
        assert "no earlier period" in card[:600], tile
    # the failed ones by their first reason, a third each; 2 with a turn the bot could not answer, 3 repeats in all
    assert bots.count("<td>1</td><td>33.3%</td>") == 3
    assert "could not answer at least once in 2 conversations (20.0%) and repeated itself 3 times in all" in bots
    channels = bots[bots.index('id="bot-channels"') :]
    chat = channels[channels.index(">chat<") : channels.index(">voice<")]
    assert "<td>7</td>" in chat and "28.6%" in chat  # 2 of 7 confirmed, 2 of 7 failed
    voice = channels[channels.index(">voice<") : channels.index("All channels")]
    assert "<td>3</td>" in voice and "66.7%" in voice  # 2 of 3 handed to an agent


def test_bot_tiles_open_their_conversations(report: str) -> None:
    bots = _section(report, "bots")
    for name, size in (("failed", 3), ("abandoned", 1), ("escalated", 3), ("loops", 2)):
        assert f'href="#list-contacts-bot-{name}">See the {size} conversations' in bots, name
        assert f"All {size}, " in _list(report, f"list-contacts-bot-{name}"), name
    failed = _list(report, "list-contacts-bot-failed")
    # most bot repeats first; chat-1 is in metrics.contact_outcomes, so its cost shows
    assert failed.index("<code>chat-1</code>") < failed.index("<code>b5</code>") < failed.index("<code>b7</code>")
    assert "the bot could not answer, 3 bot turns without an answer, the bot repeated itself twice" in failed
    assert "the customer complained" in failed and "the customer came back" in failed
    assert ">chat-0<" not in failed
    loops = _list(report, "list-contacts-bot-loops")
    assert "<code>chat-1</code>" in loops and "<code>b4</code>" in loops and "<code>b5</code>" not in loops


def test_required_disclosures_said_late_and_missing(report: str) -> None:
    section = _flat(report, "compliance")
    assert "under the <strong>banking</strong> playbook" in section
    assert "6 checks in 4 conversations" in section
    missing = section[section.index('id="kpi-disclosure-missing"') :]
    assert '<span class="value">33.3%</span>' in missing[:200] and "2 of 6 checks" in missing[:400]
    late = section[section.index('id="kpi-disclosure-late"') :]
    assert '<span class="value">16.7%</span>' in late[:200]
    some = section[section.index('id="kpi-disclosure-conversations"') :]
    assert '<span class="value">25.0%</span>' in some[:250] and "1 of 4 conversations" in some[:400]
    table = section[section.index('id="disclosure-table"') :]
    recording = table[table.index("Call recording") : table.index("Identity verification")]
    # its description comes from the playbook; said by the bot once and late by an agent once
    assert "The caller is told that the call is recorded" in recording and "within 60 s" in recording
    assert recording.count("33.3%") == 3 and "bot 50.0%" in recording and "agent 50.0%" in recording
    journeys = section[section.index('id="disclosure-journeys"') :]
    assert ">accounts<" in journeys and ">other<" in journeys


def test_disclosure_tiles_open_their_conversations(report: str) -> None:
    section = _section(report, "compliance")
    assert 'href="#list-contacts-disclosure-missing">See the 1 conversations' in section
    missing = _list(report, "list-contacts-disclosure-missing")
    assert "<code>voice-0</code>" in missing and "not said: call recording, identity verification" in missing
    assert "10.00" in missing  # voice-0's cost, from metrics.contact_outcomes
    late = _list(report, "list-contacts-disclosure-late")
    assert "<code>voice-1</code>" in late and "said late: call recording" in late and "voice-0" not in late


def test_next_issues_still_open_without_a_complete_period(report: str) -> None:
    section = _flat(report, "next_issues")
    # two days loaded, a 7-day window: no contact has had the whole window yet
    assert "<strong>Still open:</strong> the contacts of 01 Oct – 02 Oct 2026" in section
    # billing 6 of 18, refund 1 of 5; the unknown reason is left out
    assert '<span class="value">30.4%</span>' in section and "7 of 23 contacts" in section
    assert "unknown</th>" not in section and "Change</th>" not in section
    assert "billing → refund" in section and "5 contacts: 27.8% of the 18 billing contacts" in section
    assert "refund (83.3% of its next issues)" in section and "billing (100.0% of its next issues)" in section
    assert 'href="#list-transitions"' in section
    flows = section[section.index('id="list-transitions"') :]
    assert "Contacts of 01 Oct – 02 Oct 2026" in flows and flows.count("<tr>") == 4  # header + 3 flows of day 2


DAYS = [date(2026, 10, 1) + timedelta(days=i) for i in range(10)]


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Ten days, a one-day period: bot failures, missed disclosures and next issues all rise."""
    folder = tmp_path_factory.mktemp("outcomes-compared")
    db = folder / "cx.duckdb"
    last, before = DAYS[-1], DAYS[-2]
    with duckdb.connect(str(db)) as con:
        ensure_schema(con)
        insert(
            con, "metrics.daily_outcomes", [_daily_row(d, "chat", "billing", 10, 5, 4, 8, 1, 2, 1, 10.0) for d in DAYS]
        )
        bots = []
        for day, failed in ((before, 5), (last, 20)):
            bots += [
                {"partition_date": day, "conversation_id": f"{day}-{i}", "channel": "chat",
                 "outcome": "failed" if i < failed else "escalated",
                 "failure_reason": "complaint" if i < failed else None, "bot_loops": 0, "bot_fallbacks": 0}
                for i in range(100)
            ]  # fmt: skip
        insert_by_name(con, "signals.bot_outcomes", bots)
        checks = []
        for day, missing in ((before, 0), (last, 15)):
            checks += [
                {"partition_date": day, "conversation_id": f"{day}-{i}", "channel": "voice", "intent": "billing",
                 "journey": None, "disclosure": "call_recording", "status": "missing" if i < missing else "said",
                 "said_by": None if i < missing else "agent", "within_seconds": 60.0}
                for i in range(50)
            ]  # fmt: skip
        insert_by_name(con, "signals.compliance", checks)
        # a 7-day window: the latest complete day is 10-03, compared with 10-02; later days are still open
        insert_by_name(
            con,
            "metrics.next_issues",
            [
                {"partition_date": d, "intent": "billing", "contacts": 100,
                 "next_issue_contacts": {DAYS[1]: 10, DAYS[2]: 30}.get(d, 1), "window_days": 7}
                for d in DAYS
            ],
        )  # fmt: skip
    parameters = load_config().merged({"report": {"period_days": 1}})
    return build_report(db, folder / "report.html", parameters=parameters).out.read_text(encoding="utf-8")


def test_changes_against_the_previous_period_are_movements(compared: str) -> None:
    bots = _flat(compared, "bots")
    failed = bots[bots.index('id="kpi-bot-failed"') :]
    assert re.search(r'<span class="change bad" [^>]*>▲ \+15\.0 pts vs previous</span>', failed[:700])
    disclosures = _flat(compared, "compliance")
    missing = disclosures[disclosures.index('id="kpi-disclosure-missing"') :]
    assert re.search(r'<span class="change bad" [^>]*>▲ \+30\.0 pts vs previous</span>', missing[:700])


def test_next_issues_use_the_latest_complete_period(compared: str) -> None:
    section = _flat(compared, "next_issues")
    assert "Shown for the contacts of 03 Oct – 03 Oct 2026" in section
    assert "against 02 Oct – 02 Oct 2026" in section and "30 of 100 contacts" in section
    assert re.search(r'<span class="change bad" [^>]*>▲ \+20\.0 pts vs previous</span>', section)
    # no intent transitions loaded: the tile has no list to open
    assert 'href="#list-transitions"' not in section


def test_summary_points_at_the_new_sections(compared: str) -> None:
    summary = _flat(compared, "summary")
    assert '<a href="#bots">Bot failures rose to 20.0% (+15.0 pts).</a>' in summary
    assert (
        '<a href="#next_issues">More customers came back about another reason: 30.0% of the contacts of '
        "03 Oct – 03 Oct 2026 (+20.0 pts).</a>" in summary
    )
    assert (
        '<a href="#compliance">A required disclosure was not said in 15 conversations (30.0% of the checks).' in summary
    )


def test_sections_wait_for_their_tables(tmp_path: Path) -> None:
    db = tmp_path / "cx.duckdb"
    with duckdb.connect(str(db)) as con:
        ensure_schema(con)
        insert(con, "metrics.daily_outcomes", [_daily_row(DAYS[0], "chat", "billing", 10, 5, 4, 8, 1, 2, 1, 10.0)])
    summary = build_report(db, tmp_path / "report.html")
    html = summary.out.read_text(encoding="utf-8")
    assert not any(summary.sections[key] for key in ("bots", "compliance", "next_issues"))
    assert "the playbook has none (playbook.disclosures)" in _flat(html, "compliance")
