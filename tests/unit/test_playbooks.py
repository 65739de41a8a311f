"""Industry playbooks: the bundled packs, how they are layered between the defaults and a user's file, and the
generator's industry data that goes with them."""

import random
import re
from pathlib import Path

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cx_signals.config import ConfigError, load_config, sql_parameters
from cx_signals.generate.industries import (
    DISCLOSURE_LINES,
    INDUSTRY_INTENTS,
    INDUSTRY_PII_ANSWER,
    Industry,
    industry_pii_value,
)
from cx_signals.playbooks import available_playbooks
from cx_signals.redact import PII_TYPES, redact

PLAYBOOKS = ("banking", "healthcare", "retail", "telecom")


def test_the_four_packs_are_bundled():
    assert available_playbooks() == list(PLAYBOOKS)


@pytest.mark.parametrize("name", PLAYBOOKS)
def test_each_pack_is_complete_and_the_generator_can_write_it(name):
    playbook = load_config(playbook=name).playbook
    assert playbook.name == name
    assert playbook.journeys and playbook.disclosures and playbook.pii_entities
    assert set(playbook.pii_entities) <= set(PII_TYPES)
    intents = [i for j in playbook.journeys for i in j.intents]
    assert set(intents) <= set(INDUSTRY_INTENTS)
    for disclosure in playbook.disclosures:
        assert set(disclosure.intents) <= set(intents), disclosure.name
        line = DISCLOSURE_LINES[disclosure.name]
        assert any(re.search(p, line, re.IGNORECASE) for p in disclosure.phrases), disclosure.name
    industry = Industry.for_playbook(playbook)
    assert [i.name for i in industry.intents] == intents
    assert sum(i.share for i in industry.intents) == pytest.approx(1.0)


@pytest.mark.parametrize("name", PLAYBOOKS)
def test_disclosure_patterns_run_in_duckdb_and_match_only_their_own_lines(name):
    disclosures = sql_parameters(load_config(playbook=name))["playbook_disclosures"]
    with duckdb.connect() as con:
        rows = con.execute(
            """SELECT d.name, l.name
            FROM (SELECT unnest(from_json($d, '[{"name": "VARCHAR", "pattern": "VARCHAR"}]'), recursive := true)) AS d,
                 (SELECT unnest($names) AS name, unnest($lines) AS line) AS l
            WHERE regexp_matches(l.line, d.pattern)""",
            {"d": disclosures, "names": list(DISCLOSURE_LINES), "lines": list(DISCLOSURE_LINES.values())},
        ).fetchall()
    assert rows and all(disclosure == line for disclosure, line in rows)


def test_a_pack_sits_between_the_defaults_and_the_users_file(tmp_path):
    defaults, banking = load_config(), load_config(playbook="banking")
    assert banking.costs.agent_cost_per_minute["voice"] == 1.25 != defaults.costs.agent_cost_per_minute["voice"]
    assert banking.outcomes.cwq_friction_window_hours == 48
    assert banking.outcomes.repeat_window_days == defaults.outcomes.repeat_window_days  # not set by the pack
    user = tmp_path / "my.yml"
    user.write_text("playbook: banking\ncosts: {agent_cost_per_minute: {voice: 2.0}}\n", encoding="utf-8")
    mine = load_config(user)
    assert mine.playbook.name == "banking" and mine.costs.agent_cost_per_minute["voice"] == 2.0
    assert mine.costs.agent_cost_per_minute["chat"] == 0.75  # the pack's, under the user's change
    assert load_config(user, "banking") == mine


def test_a_playbook_mapping_in_the_users_file_is_a_pack_of_ones_own(tmp_path):
    user = tmp_path / "my.yml"
    user.write_text(
        "playbook:\n  name: insurance\n  journeys: [{name: claims, intents: [claim_status]}]\n"
        "  pii_entities: [date_of_birth]\n",
        encoding="utf-8",
    )
    config = load_config(user)
    assert config.playbook.name == "insurance" and config.playbook.journeys[0].intents == ["claim_status"]
    assert config.costs == load_config().costs


@pytest.mark.parametrize(
    ("content", "option", "message"),
    [
        ("", "casino", "unknown playbook 'casino' (available: banking, healthcare, retail, telecom)"),
        ("playbook: retail\n", "banking", "--playbook banking contradicts 'playbook: retail' in the config file"),
        ("playbook: 3\n", None, "parameter 'playbook' must be a playbook's name or a mapping, got 3"),
        ("playbook: {pii_entities: [passport]}\n", None, "names unknown PII kinds ['passport']"),
        (
            "playbook: {disclosures: [{name: x, description: d, phrases: ['('], speakers: [agent], channels: [],"
            " intents: [], within_seconds: null}]}\n",
            None,
            "must be a valid regular expression",
        ),
        (
            "playbook: {journeys: [{name: a, intents: [x]}, {name: b, intents: [x]}]}\n",
            None,
            "parameter 'playbook.journeys' intents' names x more than once",
        ),
    ],
)
def test_bad_playbook_settings_are_one_line_errors(tmp_path, content, option, message):
    user = tmp_path / "my.yml"
    user.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(user, option)


def test_without_a_playbook_the_sql_parameters_are_empty_lists():
    parameters = sql_parameters(load_config())
    assert (parameters["playbook_journeys"], parameters["playbook_disclosures"]) == ("[]", "[]")


@given(st.integers(0, 2**32), st.sampled_from(sorted(INDUSTRY_PII_ANSWER)))
def test_every_generated_industry_value_is_redacted_as_its_kind(seed, kind):
    r = random.Random(seed)
    value = industry_pii_value(r, kind)
    for template in INDUSTRY_PII_ANSWER[kind]:
        text = template.format(v=value)
        result = redact(text)
        start = text.index(value)
        assert [(s.type, s.start, s.end) for s in result.found] == [(kind, start, start + len(value))], text
        assert value not in result.text


def test_plans_plant_misses_and_late_disclosures_at_the_documented_rates():
    industry = Industry.for_playbook(load_config(playbook="banking").playbook)
    r = random.Random(3)
    plans = [industry.plan_disclosures(r, "voice", "card_lost_stolen") for _ in range(4000)]
    recording = [p["call_recording"] for p in plans]
    assert recording.count("miss") / len(plans) == pytest.approx(0.15, abs=0.02)
    assert recording.count("agent") / len(plans) == pytest.approx(0.85 * 0.10, abs=0.02)
    assert all("investment_risk_warning" not in p for p in plans)  # applies to investment contacts only


def test_the_generator_data_module_is_only_read_with_a_playbook():
    source = Path(__file__).resolve().parents[2] / "cx_signals" / "generate" / "conversations.py"
    # every industry hook in the dialogues is guarded, so the plain generator draws the same random numbers
    assert source.read_text(encoding="utf-8").count("if self.industry is not None:") == 2
