"""signals.bot_outcomes on hand-made bot conversations: one of each outcome, loops and fallbacks."""

from datetime import date

import pytest

from tests.conftest import insert, run_query, signals_row, ts, turn_and_score_rows

DAY = date(2026, 10, 1)

CASES = {
    # conversation: (turns (speaker, text, compound), signal columns, disposition, repeat contact)
    "escalated": (
        [("bot", "Hi, how can I help?", 0.0), ("customer", "I want a human", -0.2), ("agent", "Hello", 0.0)],
        {"handoffs": 1},
        "resolved",
        False,
    ),
    "confirmed": (
        [
            ("bot", "How can I help?", 0.0),
            ("customer", "reset my password", 0.0),
            ("bot", "Here is the reset link.", 0.0),
            ("customer", "Great, that worked. Thanks so much!", 0.8),
            ("bot", "Glad I could help.", 0.6),
        ],
        {},
        "resolved",
        False,
    ),
    "confirmed_but_negative": (
        [("bot", "Here is the link.", 0.0), ("customer", "that worked, but this took ages and I hate it", -0.6)],
        {},
        "resolved",
        False,
    ),
    "failed_last": (
        [
            ("bot", "How can I help?", 0.0),
            ("customer", "my bill is wrong", -0.3),
            ("bot", "Sorry, I couldn't sort that out.", -0.1),
        ],
        {},
        "unresolved",
        False,
    ),
    "failed_loop": (
        [
            ("bot", "Sorry, I didn't understand. Could you rephrase?", 0.0),
            ("customer", "bill", 0.0),
            ("bot", "Sorry, I didn't  understand. Could you rephrase?", 0.0),
            ("customer", "bill!!", 0.0),
            ("bot", "Here are our billing pages.", 0.0),
        ],
        {},
        None,
        False,
    ),
    "abandoned": (
        [
            ("bot", "How can I help?", 0.0),
            ("customer", "where is my order", 0.0),
            ("bot", "Your order ships tomorrow.", 0.0),
        ],
        {},
        "abandoned",
        False,
    ),
    "abandoned_question": (
        [("bot", "How can I help?", 0.0), ("customer", "order", 0.0), ("bot", "Which order number?", 0.0)],
        {},
        "unresolved",
        False,
    ),
    "assumed": (
        [
            ("bot", "How can I help?", 0.0),
            ("customer", "opening hours", 0.0),
            ("bot", "We are open 9 to 5.", 0.0),
            ("customer", "ok", 0.2),
            ("bot", "Anything else?", 0.0),
            ("system", "closed", 0.0),
        ],
        {},
        "resolved",
        False,
    ),
    "failed_fix_loop": (
        [
            ("bot", "How can I help?", 0.0),
            ("customer", "refund", 0.0),
            ("bot", "Refunds take 5 days.", 0.0),
            ("customer", "That doesn't help at all.", -0.3),
            ("bot", "Refunds take 5 days.", 0.0),
        ],
        {},
        "unresolved",
        False,
    ),
    "abandoned_then_repeat": (
        [("bot", "How can I help?", 0.0), ("customer", "order", 0.0), ("bot", "It ships tomorrow.", 0.0)],
        {},
        "abandoned",
        True,
    ),
    "failed_repeat": (
        [("bot", "How can I help?", 0.0), ("customer", "opening hours", 0.0), ("bot", "We are open 9 to 5.", 0.0)],
        {},
        "resolved",
        True,
    ),
    "failed_complaint": (
        [("bot", "We are open 9 to 5.", 0.0), ("customer", "that is useless, terrible", -0.7)],
        {},
        "resolved",
        False,
    ),
}


@pytest.fixture
def outcomes(con):
    turn_rows, score_rows, signal_rows, outcome_rows, conversations = [], [], [], [], []
    for cid, (spec, columns, disposition, repeat) in CASES.items():
        rows, scores = turn_and_score_rows(
            cid, [(sp, ts(f"2026-10-01 10:{i:02d}:00"), None, text, c) for i, (sp, text, c) in enumerate(spec)]
        )
        turn_rows += rows
        score_rows += scores
        counts = {s: sum(1 for sp, _, _ in spec if sp == s) for s in ("customer", "agent", "bot")}
        signal_rows.append(
            signals_row(
                cid,
                ts("2026-10-01 10:00:00"),
                0.2,
                customer_turns=counts["customer"],
                agent_turns=counts["agent"],
                bot_turns=counts["bot"],
                disposition=disposition,
                **columns,
            )
        )
        outcome_rows.append({"partition_date": DAY, "conversation_id": cid, "repeat_contact": repeat})
        conversations.append(cid)
    # a conversation without a bot turn has no bot outcome
    signal_rows.append(signals_row("agent_only", ts("2026-10-01 11:00:00"), 0.2, agent_turns=2))
    insert(con, "raw.turns", turn_rows)
    insert(con, "signals.turn_sentiment", score_rows)
    insert(con, "signals.conversation_signals", signal_rows)
    insert(con, "metrics.contact_outcomes", outcome_rows)
    return {r["conversation_id"]: r for r in run_query(con, "signals.bot_outcomes", "signals/bot_outcomes", [DAY])}


def test_each_bot_conversation_gets_the_first_outcome_that_holds(outcomes):
    assert {cid: r["outcome"] for cid, r in outcomes.items()} == {
        "escalated": "escalated",
        "confirmed": "confirmed_resolution",
        "confirmed_but_negative": "failed",
        "failed_last": "failed",
        "failed_loop": "failed",
        "abandoned": "abandoned",
        "abandoned_question": "abandoned",
        "assumed": "assumed_resolution",
        "failed_fix_loop": "failed",
        "abandoned_then_repeat": "abandoned",
        "failed_repeat": "failed",
        "failed_complaint": "failed",
    }
    # a complaint or a repeat contact after the bot's last word is a failure too, told apart by its reason
    assert {cid: r["failure_reason"] for cid, r in outcomes.items() if r["outcome"] == "failed"} == {
        "confirmed_but_negative": "complaint",
        "failed_last": "fallback",
        "failed_loop": "fallback",
        "failed_fix_loop": "complaint",
        "failed_repeat": "repeat_contact",
        "failed_complaint": "complaint",
    }
    assert all(r["failure_reason"] is None for r in outcomes.values() if r["outcome"] != "failed")


def test_loops_and_fallbacks_are_counted(outcomes):
    loop = outcomes["failed_loop"]
    # the same answer twice (spacing aside) is one loop; both are fallbacks
    assert (loop["bot_loops"], loop["max_bot_repeats"], loop["bot_fallbacks"]) == (1, 2, 2)
    assert (outcomes["confirmed"]["bot_loops"], outcomes["confirmed"]["max_bot_repeats"]) == (0, 1)
    assert outcomes["failed_last"]["bot_fallbacks"] == 1
    # the same answer after the customer said it did not help: a loop without a fallback
    fix_loop = outcomes["failed_fix_loop"]
    assert (fix_loop["bot_loops"], fix_loop["max_bot_repeats"], fix_loop["bot_fallbacks"]) == (1, 2, 0)
    assert outcomes["assumed"]["last_speaker"] == "system"
    assert outcomes["failed_complaint"]["customer_complained"]
    assert outcomes["failed_repeat"]["repeat_contact"] and not outcomes["assumed"]["repeat_contact"]
