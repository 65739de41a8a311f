"""Categories and QA scorecards: rule validation, the YAML -> SQL compiler on hand-made conversations, and the
scores read from the answers."""

from datetime import date

import duckdb
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cx_signals.categories import RulesError, load_rules, parse_rules, phrase_pattern, score_conversations
from cx_signals.config import ConfigError, load_config
from tests.conftest import insert, run_query, signals_row, ts, turn_and_score_rows

DAY = date(2026, 10, 1)


def conversation(cid, customer_key="k1"):
    return {
        "partition_date": DAY,
        "conversation_id": cid,
        "customer_id": "C1",
        "customer_key": customer_key,
        "channel": "chat",
        "started_at": ts("2026-10-01 10:00:00"),
        "ended_at": ts("2026-10-01 10:30:00"),
        "consent_analytics": True,
    }


def load(con, *conversations):
    """conversations: (conversation id, spec, agent key, signal columns); spec: (speaker, text, compound) turns a
    minute apart from 10:00. Every table is written once, as insert replaces the day."""
    turn_rows, score_rows, signal_rows = [], [], []
    for cid, spec, agent_key, signal_columns in conversations:
        rows, scores = turn_and_score_rows(
            cid, [(sp, ts(f"2026-10-01 10:{i:02d}:00"), None, text, c) for i, (sp, text, c) in enumerate(spec)]
        )
        for row in rows:
            row["agent_key"] = agent_key if row["speaker"] == "agent" else None
        turn_rows += rows
        score_rows += scores
        counts = {s: sum(1 for sp, _, _ in spec if sp == s) for s in ("customer", "agent", "bot")}
        signal_rows.append(
            signals_row(
                cid,
                ts("2026-10-01 10:00:00"),
                0.5,
                customer_turns=counts["customer"],
                agent_turns=counts["agent"],
                bot_turns=counts["bot"],
                **signal_columns,
            )
        )
    insert(con, "raw.conversations", [conversation(c[0]) for c in conversations])
    insert(con, "raw.turns", turn_rows)
    insert(con, "signals.turn_sentiment", score_rows)
    insert(con, "signals.conversation_signals", signal_rows)


RULES = {
    "version": "t1",
    "categories": {
        "greeting": {"when": {"phrase": {"speaker": "agent", "first": 2, "phrases": ["hello", "good morning"]}}},
        "apology": {"when": {"phrase": {"speaker": "agent", "phrases": ["sorry"]}}},
        "late_apology": {"when": {"phrase": {"speaker": "agent", "last": 1, "phrases": ["sorry"]}}},
        "churn": {"when": {"phrase": {"speaker": "customer", "phrases": ["cancel my account"]}}},
        "anyone_says_cancel": {"when": {"phrase": {"phrases": ["cancel"]}}},
        "frustrated": {"when": {"streak": {"speaker": "customer", "length": 3, "below": -0.05}}},
        "long_hold": {"when": {"signal": {"column": "hold_seconds", "op": ">", "value": 60}}},
        "voice": {"when": {"signal": {"column": "channel", "op": "=", "value": "voice"}}},
        "churn_and_frustrated": {"when": {"all": [{"category": "churn"}, {"category": "frustrated"}]}},
        "churn_or_apology": {"when": {"any": [{"category": "churn"}, {"category": "apology"}]}},
        "unapologetic_churn": {"when": {"all": [{"category": "churn"}, {"not": {"category": "apology"}}]}},
    },
    "scorecards": {
        "agent": {
            "questions": [
                {"id": "greeted", "text": "Greeted?", "weight": 1, "met": {"category": "greeting"}},
                {
                    "id": "apologised",
                    "text": "Apologised to a frustrated customer?",
                    "weight": 3,
                    "applies": {"category": "frustrated"},
                    "met": {"category": "apology"},
                },
                {
                    "id": "short_hold",
                    "text": "Hold under a minute?",
                    "weight": 2,
                    "applies": {"signal": {"column": "hold_seconds", "op": ">", "value": 0}},
                    "met": {"not": {"category": "long_hold"}},
                },
            ]
        }
    },
}

ANGRY = [
    ("customer", "my order never came", -0.4),
    ("agent", "Hi there, let me look", 0.0),
    ("customer", "this is awful", -0.6),
    ("agent", "Good morning, checking now", 0.0),
    ("customer", "I will cancel my account", -0.3),
    ("customer", "useless", -0.5),
    ("agent", "I'm so sorry about this", -0.1),
]
CALM = [
    ("customer", "where is my parcel", 0.0),
    ("agent", "Hello! It's on its way", 0.3),
    ("customer", "thanks", 0.4),
]


def categories_of(con, rules):
    matched, answers = score_conversations(con, rules, DAY, DAY)
    by_key = {(r["conversation_id"], r["category"]): r for r in matched.to_dicts()}
    return by_key, {(r["conversation_id"], r["question"]): r for r in answers.to_dicts()}


def test_phrases_positions_streaks_thresholds_and_combinations(con):
    load(con, ("angry", ANGRY, "ag1", {"hold_seconds": 90.0}), ("calm", CALM, "ag1", {}))
    found, _ = categories_of(con, parse_rules(RULES))
    assert len(found) == 2 * len(RULES["categories"])

    def first(cid, category):
        row = found[(cid, category)]
        return row["first_turn_index"] if row["matched"] else None

    # "Good morning" is the agent's second turn: within the first two; "Hello" in the calm one is the first
    assert first("angry", "greeting") == 3 and first("calm", "greeting") == 1
    assert found[("angry", "greeting")]["first_match_at"] == ts("2026-10-01 10:03:00")
    assert first("angry", "apology") == 6 and first("angry", "late_apology") == 6
    assert first("angry", "churn") == 4 and first("angry", "anyone_says_cancel") == 4
    # three negative customer turns in a row complete at the third (turn 4)
    assert first("angry", "frustrated") == 4
    assert found[("angry", "long_hold")]["matched"] and found[("angry", "long_hold")]["first_turn_index"] is None
    assert not found[("angry", "voice")]["matched"]
    # all: the latest part's turn; any: the earliest matching part's
    assert first("angry", "churn_and_frustrated") == 4 and first("angry", "churn_or_apology") == 4
    assert not found[("angry", "unapologetic_churn")]["matched"]
    for category in RULES["categories"]:
        if category != "greeting":
            assert not found[("calm", category)]["matched"], category
            assert found[("calm", category)]["first_turn_index"] is None
    assert {r["rules_version"] for r in found.values()} == {"t1"}
    assert {r["rules_hash"] for r in found.values()} == {parse_rules(RULES).content_hash}


def test_a_streak_is_consecutive_and_a_position_counts_only_the_speakers_turns(con):
    spec = [
        ("customer", "bad", -0.5),
        ("customer", "worse", -0.5),
        ("agent", "hello", 0.0),  # another speaker does not break the customer's run
        ("customer", "fine", 0.2),  # a neutral customer turn does
        ("customer", "bad", -0.5),
        ("customer", "bad again", -0.5),
        ("agent", "ok", 0.0),
        ("agent", "ok", 0.0),
        ("agent", "hello again", 0.0),  # the agent's third turn: not within their first two
    ]
    load(con, ("c1", spec, "ag1", {}))
    rules = parse_rules(
        {
            "version": "1",
            "categories": {
                "three_bad": {"when": {"streak": {"length": 3, "below": -0.05}}},
                "two_bad": {"when": {"streak": {"length": 2, "below": -0.05}}},
                "late_hello": {"when": {"phrase": {"speaker": "agent", "first": 2, "phrases": ["hello again"]}}},
                "last_turn_hello": {"when": {"phrase": {"last": 1, "phrases": ["hello"]}}},
            },
        }
    )
    found, _ = categories_of(con, rules)
    assert not found[("c1", "three_bad")]["matched"]
    assert found[("c1", "two_bad")]["first_turn_index"] == 1
    assert not found[("c1", "late_hello")]["matched"]
    assert found[("c1", "last_turn_hello")]["first_turn_index"] == 8


def test_scorecard_answers_scores_and_agent_days(con):
    load(con, ("angry", ANGRY, "ag1", {"hold_seconds": 90.0}), ("calm", CALM, "ag2", {}))
    _, answers = categories_of(con, parse_rules(RULES))
    answer = {k: v["answer"] for k, v in answers.items()}
    assert answer[("angry", "greeted")] == "met" and answer[("angry", "apologised")] == "met"
    assert answer[("angry", "short_hold")] == "not_met"
    assert answer[("calm", "greeted")] == "met"
    assert answer[("calm", "apologised")] == answer[("calm", "short_hold")] == "not_applicable"
    assert answers[("angry", "apologised")]["evidence_turn_index"] == 6
    assert answers[("angry", "short_hold")]["evidence_turn_index"] is None

    _, rows = score_conversations(con, parse_rules(RULES), DAY, DAY)
    insert(con, "signals.qa_answers", rows.to_dicts())
    scores = {
        r["conversation_id"]: r
        for r in run_query(con, "signals.qa_conversation_scores", "signals/qa_conversation_scores", [DAY])
    }
    assert scores["angry"]["score"] == pytest.approx((1 + 3) / (1 + 3 + 2))
    assert (scores["angry"]["questions_applicable"], scores["angry"]["questions_met"]) == (3, 2)
    assert scores["calm"]["score"] == 1.0 and scores["calm"]["possible_points"] == 1.0
    agents = {r["agent_key"]: r for r in run_query(con, "metrics.qa_scores", "metrics/qa_scores", [DAY])}
    assert agents["ag1"]["score_mean"] == pytest.approx(4 / 6) and agents["ag1"]["conversations"] == 1
    assert agents["ag2"]["score_mean"] == 1.0 and agents["ag2"]["rules_version"] == "t1"
    # one scored conversation each: listed, but below qa.min_conversations (10) nobody is judged on it
    assert not agents["ag1"]["judged"] and not agents["ag2"]["judged"]
    assert agents["ag1"]["caution"] == (
        "QA score from 1 scored conversations (fewer than 10): not a basis for judging the agent"
    )
    lenient = load_config().merged({"qa": {"min_conversations": 1}})
    judged = {
        r["agent_key"]: (r["judged"], r["caution"])
        for r in run_query(con, "metrics.qa_scores", "metrics/qa_scores", [DAY], lenient)
    }
    assert judged == {"ag1": (True, None), "ag2": (True, None)}


def test_no_applicable_question_gives_no_score(con):
    insert(
        con,
        "signals.qa_answers",
        [
            {
                "partition_date": DAY,
                "conversation_id": "c1",
                "scorecard": "s",
                "question": q,
                "weight": w,
                "answer": a,
                "rules_version": "1",
                "rules_hash": "h",
            }
            for q, w, a in [("a", 1.0, "not_applicable"), ("b", 0.0, "met")]
        ],
    )
    (row,) = run_query(con, "signals.qa_conversation_scores", "signals/qa_conversation_scores", [DAY])
    assert row["score"] is None and row["questions_applicable"] == 1 and row["possible_points"] == 0


def test_conversations_of_refusing_customers_are_not_categorised(con):
    load(con, ("c1", CALM, "ag1", {}))
    refused = conversation("c2", customer_key="k2") | {"consent_analytics": False}
    insert(con, "raw.conversations", [conversation("c1"), refused])
    found, _ = categories_of(con, parse_rules(RULES))
    assert {cid for cid, _ in found} == {"c1"}


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20))
def test_a_phrase_matches_itself_literally_whatever_it_holds(phrase):
    if not phrase.strip():
        return
    normalised = " ".join(phrase.split())
    pattern = phrase_pattern((normalised,))
    con = duckdb.connect()
    assert con.execute("SELECT regexp_matches(?, ?)", [f"say {normalised} now", pattern]).fetchone()[0]
    con.close()


def test_phrases_are_literal_whole_words_and_case_blind():
    con = duckdb.connect()

    def matches(text, *phrases):
        return con.execute("SELECT regexp_matches(?, ?)", [text, phrase_pattern(phrases)]).fetchone()[0]

    assert matches("I want to CANCEL my   account", "cancel my account")
    assert matches("cancel\u00a0my\taccount", "cancel my account")
    assert not matches("I cancelled", "cancel")
    assert not matches("aab", "a+b") and matches("a+b?", "a+b")
    assert matches("price (net)", "(net)") and not matches("x", ".")
    assert matches("ok') OR 1=1 --", "') OR 1=1 --")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": None}, "version must be a non-empty text"),
        (
            {"categories": {"x": {"when": {"phrase": {"speaker": "agnet", "phrases": ["a"]}}}}},
            "categories.x.when.phrase.speaker must be one of customer, agent, bot, system, got 'agnet'",
        ),
        ({"categories": {"x": {"when": {"phrase": {"phrases": []}}}}}, "categories.x.when.phrase.phrases must be"),
        ({"categories": {"x": {"when": {"phrase": {"phrases": ["a"], "first": 1, "last": 1}}}}}, "first or last"),
        (
            {"categories": {"x": {"when": {"signal": {"column": "nope", "op": ">", "value": 1}}}}},
            "categories.x.when.signal.column must be a column of signals.conversation_signals",
        ),
        (
            {"categories": {"x": {"when": {"signal": {"column": "channel", "op": ">", "value": "a"}}}}},
            "must be = or != for the string column channel",
        ),
        (
            {"categories": {"x": {"when": {"signal": {"column": "hold_seconds", "op": ">", "value": "1"}}}}},
            "categories.x.when.signal.value must be a number",
        ),
        ({"categories": {"x": {"when": {"streak": {"length": 0, "below": 0}}}}}, "length must be a whole number"),
        ({"categories": {"x": {"when": {"streak": {"length": 2}}}}}, "exactly one of below and above"),
        ({"categories": {"x": {"when": {"category": "y"}}, "y": {"when": {"category": "x"}}}}, "cycle: x -> y -> x"),
        ({"categories": {"x": {"when": {"category": "z"}}}}, "unknown category 'z'"),
        ({"categories": {"x": {"when": {"both": []}}}}, "categories.x.when must be a mapping with exactly one of"),
        ({"categories": {"x": {"when": {"phrase": {"phrases": ["a"]}}, "colour": 1}}}, "unknown key(s) colour"),
        (
            {
                "scorecards": {
                    "s": {"questions": [{"id": "q", "text": "t", "met": {"category": "greeting"}, "weight": 0}]}
                }
            },
            "scorecards.s needs a question with a weight above 0",
        ),
        (
            {"scorecards": {"s": {"questions": [{"id": "q", "text": "t", "met": {"category": "nope"}}]}}},
            "scorecards.s.questions[0].met.category names an unknown category 'nope'",
        ),
    ],
)
def test_malformed_rules_are_refused_naming_the_rule(change, message):
    document = {**RULES, **change}
    with pytest.raises(RulesError) as error:
        parse_rules(document)
    assert message in str(error.value)


def test_the_bundled_rules_and_a_bad_rules_file_through_the_config(tmp_path):
    rules = load_rules()
    names = {c.name for c in rules.categories}
    assert {"escalation_request", "agent_apology", "churn_threat", "agent_greeting"} <= names
    assert len(rules.content_hash) == 64 and rules.scorecards
    bad = tmp_path / "rules.yml"
    bad.write_text(yaml.safe_dump({"version": "1", "categories": {"x": {"when": {"phrase": {"phrases": "a"}}}}}))
    override = tmp_path / "config.yml"
    override.write_text(yaml.safe_dump({"categories": {"rules_file": str(bad)}}))
    with pytest.raises(ConfigError, match=r"categories.rules_file.*categories.x.when.phrase.phrases must be"):
        load_config(override)
    override.write_text(yaml.safe_dump({"categories": {"rules_file": str(tmp_path / "missing.yml")}}))
    with pytest.raises(ConfigError, match="cannot read rules file"):
        load_config(override)


def test_the_hash_follows_the_content_not_the_layout():
    a = parse_rules(RULES)
    reordered = parse_rules(yaml.safe_load(yaml.safe_dump(RULES, sort_keys=False, indent=4)))
    changed = parse_rules({**RULES, "categories": {**RULES["categories"], "extra": RULES["categories"]["apology"]}})
    assert a.content_hash == reordered.content_hash != changed.content_hash


def test_rules_without_scorecards_give_categories_and_no_answers(con):
    load(con, ("c1", CALM, "ag1", {}))
    rules = parse_rules({"version": "1", "categories": {"voice": RULES["categories"]["voice"]}})
    matched, answers = score_conversations(con, rules, DAY, DAY)
    assert matched.to_dicts()[0] | {"partition_date": None} == {
        "partition_date": None,
        "conversation_id": "c1",
        "category": "voice",
        "matched": False,
        "first_turn_index": None,
        "first_match_at": None,
        "rules_version": "1",
        "rules_hash": rules.content_hash,
    }
    assert answers.is_empty()
