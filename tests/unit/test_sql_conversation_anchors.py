"""The conversation signals defined after the vendors' own (docs/signals.md): sentiment by time quarters (Contact Lens),
the end-weighted score and the trend with its bands (Genesys), first response times of agents only and of bots
(Zendesk, Chatwoot), talk speed and interruptions by who interrupted (Contact Lens), on hand-made turns and against an
independent Python computation of the same definitions on random voice conversations."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from itertools import pairwise

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cx_signals.config import ConfigError, cost_model_rows, load_config
from cx_signals.db import ensure_schema
from tests.conftest import run_query, ts, turn_and_score_rows
from tests.unit.test_sql_signals import DAY, conversation, load, signals, turns


def event(cid: str, index: int, kind: str, moment: str) -> dict:
    return {"partition_date": DAY, "conversation_id": cid, "event_index": index, "event_type": kind, "ts": ts(moment)}


def customer_only(cid: str, scores: list[float]) -> tuple[list[dict], list[dict]]:
    """A chat of one customer turn a minute with the given compounds."""
    return turns(cid, [("customer", f"2026-10-01 10:{i:02d}:00", None, "text", c) for i, c in enumerate(scores)])


# --- sentiment by time quarters (Contact Lens) ----------------------------------------------------------------------


def test_time_quarters_differ_from_turn_quarters(con):
    # the customer speaks for 40 minutes (quarters of 10): a burst of turns at the start, one in the third quarter,
    # two at the end; the agent's wrap-up after the customer's last turn is outside the customer's time
    spec = [
        ("customer", "2026-10-01 10:00:00", None, "my order never came", -0.8),
        ("customer", "2026-10-01 10:01:00", None, "hello??", -0.4),
        ("customer", "2026-10-01 10:02:00", None, "anyone", -0.2),
        ("agent", "2026-10-01 10:15:00", None, "sorry, checking", 0.1),
        ("customer", "2026-10-01 10:25:00", None, "ok", 0.2),
        ("customer", "2026-10-01 10:39:00", None, "thanks", 0.6),
        ("customer", "2026-10-01 10:40:00", None, "great", 0.8),  # the customer's last instant: fourth quarter
        ("agent", "2026-10-01 10:45:00", None, "anything else?", 0.3),
    ]
    rows, scores = turns("c1", spec)
    load(con, [conversation("c1", end="2026-10-01 10:50:00")], rows, scores)
    s = signals(con)["c1"]
    quarters = [s[f"sentiment_time_q{q}"] for q in (1, 2, 3, 4)]
    assert quarters == [pytest.approx(-1.4 / 3), None, pytest.approx(0.2), pytest.approx(0.7)]
    # the turn quarters (ceil(6/4) = 2 customer turns each) are unchanged beside them
    assert (s["sentiment_start"], s["sentiment_end"]) == (pytest.approx(-0.6), pytest.approx(0.7))


def test_a_timed_turn_belongs_to_the_quarter_of_its_midpoint(con):
    # the customer's last turn ends at 40 s, quarters of 10 s: a turn from 5 s to 17 s has its midpoint (11 s) in the
    # second quarter
    rows, scores = turns(
        "v1",
        [
            ("customer", "2026-10-01 10:00:05", "2026-10-01 10:00:17", "it keeps failing", -0.5),
            ("agent", "2026-10-01 10:00:18", "2026-10-01 10:00:30", "let me look", 0.0),
            ("customer", "2026-10-01 10:00:31", "2026-10-01 10:00:40", "thank you", 0.4),
        ],
    )
    load(con, [conversation("v1", "voice", start="2026-10-01 10:00:00", end="2026-10-01 10:00:40")], rows, scores)
    s = signals(con)["v1"]
    assert [s[f"sentiment_time_q{q}"] for q in (1, 2, 3, 4)] == [None, -0.5, None, 0.4]


def test_a_customer_speaking_only_at_the_start_has_no_time_quarters(con):
    # one untimed customer turn at the conversation's first instant: the customer's time is empty
    rows, scores = turns(
        "c1",
        [
            ("customer", "2026-10-01 10:00:00", None, "hi", 0.3),
            ("agent", "2026-10-01 10:01:00", None, "hello", 0.0),
        ],
    )
    load(con, [conversation("c1")], rows, scores)
    s = signals(con)["c1"]
    assert [s[f"sentiment_time_q{q}"] for q in (1, 2, 3, 4)] == [None] * 4
    assert s["sentiment_start"] == s["sentiment_end"] == pytest.approx(0.3)


# --- end-weighted score and trend (Genesys) -------------------------------------------------------------------------


def test_end_weighted_score_reproduces_genesys_worked_example(con):
    # Genesys: 20 customer phrases, positive events at the 10th and 18th: f(0.50 + 0.90) = 100 tanh(0.75 x 1.4) = 78
    scores = [0.0] * 20
    scores[9], scores[17] = 0.5, 0.7
    load(con, [conversation("c1", end="2026-10-01 10:30:00")], *customer_only("c1", scores))
    s = signals(con)["c1"]
    assert round(100 * s["sentiment_score_end_weighted"]) == 78
    # trend: the start-event (10th of 20) against the end-event (18th): (0.7 - 0.5) / 2
    assert s["sentiment_trend"] == pytest.approx(0.1)
    assert s["sentiment_trend_band"] == "no_change"


def test_a_late_event_weighs_more_than_an_early_one(con):
    early = [-0.6, 0.0, 0.0, 0.0, 0.0, 0.6]  # negative first, positive last: positive overall
    late = [0.6, 0.0, 0.0, 0.0, 0.0, -0.6]
    load(
        con,
        [conversation("early"), conversation("late")],
        *[a + b for a, b in zip(customer_only("early", early), customer_only("late", late), strict=True)],
    )
    found = signals(con)
    assert found["early"]["sentiment_score_end_weighted"] == pytest.approx(math.tanh(0.75 * (6 - 1) / 6))
    assert found["late"]["sentiment_score_end_weighted"] == pytest.approx(-math.tanh(0.75 * (6 - 1) / 6))
    assert (found["early"]["sentiment_trend"], found["early"]["sentiment_trend_band"]) == (
        pytest.approx(0.6),
        "improving",
    )
    assert (found["late"]["sentiment_trend"], found["late"]["sentiment_trend_band"]) == (
        pytest.approx(-0.6),
        "declining",
    )


def test_neutral_turns_are_not_events(con):
    # |compound| within the neutral band (sentiment thresholds +-0.05) is no event: score 0, trend 0
    load(con, [conversation("c1")], *customer_only("c1", [0.05, -0.05, 0.0, 0.04, -0.01, 0.0]))
    s = signals(con)["c1"]
    assert (s["sentiment_score_end_weighted"], s["sentiment_trend"], s["sentiment_trend_band"]) == (
        0.0,
        0.0,
        "no_change",
    )


def test_a_half_without_events_counts_as_neutral(con):
    # nothing in the first half, a negative end: the trend is half the end-events' mean
    load(con, [conversation("c1")], *customer_only("c1", [0.0, 0.0, 0.0, 0.0, -0.8, -0.6]))
    s = signals(con)["c1"]
    assert s["sentiment_trend"] == pytest.approx(-0.35)
    assert s["sentiment_trend_band"] == "slightly_declining"


@pytest.mark.parametrize(
    ("start", "end", "band"),
    [
        (-0.5, 0.5, "improving"),  # trend 0.5 = strong: inclusive
        (-0.25, 0.25, "slightly_improving"),  # 0.25 = slight: inclusive
        (-0.125, 0.125, "no_change"),
        (0.25, -0.25, "slightly_declining"),
        (0.5, -0.5, "declining"),
    ],
)
def test_trend_bands_follow_the_configured_thresholds(con, start, end, band):
    config = load_config().merged({"conversation": {"sentiment_trend_slight": 0.25, "sentiment_trend_strong": 0.5}})
    load(con, [conversation("c1")], *customer_only("c1", [start, 0.0, 0.0, 0.0, 0.0, end]))
    (s,) = run_query(con, "signals.conversation_signals", "signals/conversation_signals", [DAY], config)
    assert s["sentiment_trend_band"] == band


def test_band_thresholds_must_be_ordered():
    with pytest.raises(ConfigError, match="sentiment_trend_slight' must not exceed"):
        load_config().merged({"conversation": {"sentiment_trend_slight": 0.6, "sentiment_trend_strong": 0.5}})


def test_no_trend_below_the_minimum_of_customer_turns(con):
    minimum = load_config()["conversation"]["sentiment_trend_min_customer_turns"]
    load(con, [conversation("c1")], *customer_only("c1", [-0.9] + [0.9] * (minimum - 2)))
    s = signals(con)["c1"]
    assert s["sentiment_trend"] is None and s["sentiment_trend_band"] is None
    assert s["sentiment_score_end_weighted"] > 0  # the score needs no minimum


def test_no_customer_turn_no_customer_sentiment(con):
    rows, scores = turns("c1", [("agent", "2026-10-01 10:00:00", None, "hello, how can I help?", 0.4)])
    load(con, [conversation("c1")], rows, scores)
    s = signals(con)["c1"]
    names = ["sentiment_score_end_weighted", "sentiment_trend", "sentiment_trend_band"]
    assert [s[n] for n in names + [f"sentiment_time_q{q}" for q in (1, 2, 3, 4)]] == [None] * 7
    assert s["agent_first_response_seconds"] is None and s["bot_first_response_seconds"] is None


# --- first response: agents only, bots apart (Zendesk, Chatwoot) ----------------------------------------------------


def test_bot_then_agent_after_a_handoff(con):
    rows, scores = turns(
        "c1",
        [
            ("customer", "2026-10-01 10:00:00", None, "I was charged twice", -0.3),
            ("bot", "2026-10-01 10:00:02", None, "I can help with billing. Which order?", 0.0),
            ("customer", "2026-10-01 10:00:30", None, "agent please", 0.0),
            ("agent", "2026-10-01 10:01:00", None, "Hi, I'm Sam", 0.0),
        ],
    )
    # a transfer is no handoff from the bot: it does not restart Chatwoot's clock
    handoffs = [
        event("c1", 0, "handoff_to_agent", "2026-10-01 10:00:40"),
        event("c1", 1, "transfer", "2026-10-01 10:00:55"),
    ]
    load(con, [conversation("c1")], rows, scores, handoffs)
    s = signals(con)["c1"]
    assert s["first_response_seconds"] == 2  # whoever answered first, kept as it was
    assert s["bot_first_response_seconds"] == 2
    assert s["agent_first_response_seconds"] == 60  # Zendesk: from the customer's first message, bots excluded
    assert s["agent_first_response_after_handoff_seconds"] == 20  # Chatwoot: from the handoff


def test_a_handoff_after_the_agent_reply_does_not_move_the_clock(con):
    rows, scores = turns(
        "c1",
        [
            ("customer", "2026-10-01 10:00:00", None, "hi", 0.0),
            ("agent", "2026-10-01 10:00:30", None, "hello", 0.0),
            ("customer", "2026-10-01 10:01:00", None, "thanks", 0.0),
        ],
    )
    load(con, [conversation("c1")], rows, scores, [event("c1", 0, "handoff_to_agent", "2026-10-01 10:00:45")])
    s = signals(con)["c1"]
    assert s["agent_first_response_seconds"] == s["agent_first_response_after_handoff_seconds"] == 30


def test_bot_only_has_no_agent_response(con):
    rows, scores = turns(
        "c1",
        [
            ("customer", "2026-10-01 10:00:00", None, "where is my parcel", 0.0),
            ("bot", "2026-10-01 10:00:01", None, "It arrives tomorrow", 0.0),
        ],
    )
    load(con, [conversation("c1")], rows, scores)
    s = signals(con)["c1"]
    assert (s["first_response_seconds"], s["bot_first_response_seconds"]) == (1, 1)
    assert s["agent_first_response_seconds"] is None and s["agent_first_response_after_handoff_seconds"] is None


def test_an_agent_message_before_the_customer_is_not_a_response(con):
    # an outbound message opens the conversation: the clock starts at the customer's first message
    rows, scores = turns(
        "c1",
        [
            ("agent", "2026-10-01 09:00:00", None, "Your order has shipped", 0.0),
            ("customer", "2026-10-01 10:00:00", None, "it has not arrived", -0.2),
            ("customer", "2026-10-01 10:05:00", None, "hello?", 0.0),
            ("agent", "2026-10-01 10:12:00", None, "Sorry, checking", 0.0),
        ],
    )
    load(con, [conversation("c1", start="2026-10-01 09:00:00", end="2026-10-01 10:20:00")], rows, scores)
    s = signals(con)["c1"]
    assert s["agent_first_response_seconds"] == 12 * 60
    assert s["bot_first_response_seconds"] is None


def test_one_customer_turn_and_no_reply(con):
    rows, scores = turns("c1", [("customer", "2026-10-01 10:00:00", None, "hello", 0.0)])
    load(con, [conversation("c1")], rows, scores)
    s = signals(con)["c1"]
    names = ["first_response_seconds", "agent_first_response_seconds", "bot_first_response_seconds"]
    assert [s[n] for n in names] == [None, None, None]
    assert (s["customer_words_per_minute"], s["customer_interruptions"], s["agent_interruptions"]) == (None, 0, 0)


# --- talk speed and interruptions by who (Contact Lens) -------------------------------------------------------------


def test_talk_speed_per_party_counts_only_measurable_voice_turns(con):
    rows, scores = turns(
        "v1",
        [
            ("customer", "2026-10-01 10:00:00", "2026-10-01 10:00:02", "one two three four five", 0.0),
            ("agent", "2026-10-01 10:00:03", "2026-10-01 10:00:04.5", "a  b\tc", 0.0),
            ("agent", "2026-10-01 10:00:05", "2026-10-01 10:00:05", "zero length turn", 0.0),
            ("agent", "2026-10-01 10:00:06", None, "no end time", 0.0),
            ("agent", "2026-10-01 10:00:07", "2026-10-01 10:00:09", "", 0.0),  # not transcribed
            ("customer", "2026-10-01 10:00:10", "2026-10-01 10:00:11", "six seven", 0.0),
        ],
    )
    load(con, [conversation("v1", "voice", end="2026-10-01 10:01:00")], rows, scores)
    s = signals(con)["v1"]
    assert s["customer_words_per_minute"] == pytest.approx(7 / 3 * 60)
    assert s["agent_words_per_minute"] == pytest.approx(3 / 1.5 * 60)


def test_talk_speed_is_voice_only(con):
    rows, scores = turns(
        "c1", [("customer", "2026-10-01 10:00:00", "2026-10-01 10:00:02", "typed with an end time", 0.0)]
    )
    load(con, [conversation("c1", "chat")], rows, scores)
    s = signals(con)["c1"]
    assert s["customer_words_per_minute"] is None and s["agent_words_per_minute"] is None


def test_interruptions_by_who_interrupted(con):
    rows, scores = turns(
        "v1",
        [
            ("customer", "2026-10-01 10:00:00", "2026-10-01 10:00:10", "my card was charged twice", 0.0),
            ("agent", "2026-10-01 10:00:08", "2026-10-01 10:00:20", "I see the two charges", 0.0),  # agent cuts in
            ("customer", "2026-10-01 10:00:18", "2026-10-01 10:00:25", "yes both", 0.0),  # customer cuts in
            ("agent", "2026-10-01 10:00:30", "2026-10-01 10:00:45", "refunding one", 0.0),
            ("agent", "2026-10-01 10:00:40", "2026-10-01 10:00:50", "done", 0.0),  # same party: no interruption
            ("customer", "2026-10-01 10:00:49", "2026-10-01 10:00:49", "ok", 0.0),  # zero-length, cuts in
            ("agent", "2026-10-01 10:00:49", "2026-10-01 10:00:55", "anything else", 0.0),  # not before 10:00:49
            ("bot", "2026-10-01 10:00:54", "2026-10-01 10:00:58", "please rate us", 0.0),  # bot overlaps the agent
        ],
    )
    load(con, [conversation("v1", "voice", end="2026-10-01 10:01:00")], rows, scores)
    s = signals(con)["v1"]
    assert (s["agent_interruptions"], s["customer_interruptions"], s["interruptions"]) == (1, 2, 4)


# --- against an independent computation of the definitions ----------------------------------------------------------

START = datetime(2026, 10, 1, 10, 0, 0)
WORDS = ("yes", "no", "order", "refund", "card", "please")


def _band(trend: float, slight: float, strong: float) -> str | None:
    """Genesys's band of a trend, or None when the trend is within rounding of a threshold (either side is right)."""
    if any(abs(abs(trend) - edge) < 1e-9 for edge in (slight, strong)):
        return None
    if abs(trend) < slight:
        return "no_change"
    return ("" if abs(trend) >= strong else "slightly_") + ("improving" if trend > 0 else "declining")


def _expected(spec: list[tuple]) -> dict:
    """The definitions of docs/signals.md computed in Python, apart from the SQL, for a voice conversation of
    (speaker, start s, length s or None, words, compound) turns in time order, starting at 0 s."""
    config = load_config()
    negative, positive = config["sentiment"]["negative_threshold"], config["sentiment"]["positive_threshold"]
    conversation_config = config["conversation"]
    customer = [(start, length, c) for speaker, start, length, _, c in spec if speaker == "customer"]
    n = len(customer)
    polarity = [1 if c > positive else -1 if c < negative else 0 for _, _, c in customer]
    quarters: dict[int, list[float]] = {}
    customer_time = max((start + (length or 0) for start, length, _ in customer), default=0)
    for start, length, c in customer if customer_time > 0 else []:
        quarters.setdefault(min(4, 1 + math.floor(4 * (start + (length or 0) / 2) / customer_time)), []).append(c)
    expected: dict = {
        f"sentiment_time_q{q}": pytest.approx(sum(v) / len(v)) if (v := quarters.get(q)) else None for q in (1, 2, 3, 4)
    }
    weighted = sum(p * position for position, p in enumerate(polarity, 1))
    expected["sentiment_score_end_weighted"] = pytest.approx(math.tanh(0.75 * weighted / n)) if n else None
    expected["sentiment_trend"] = None
    if n >= conversation_config["sentiment_trend_min_customer_turns"]:
        halves = [
            [c for position, (_, _, c) in enumerate(customer, 1) if polarity[position - 1] and (position <= n / 2) == h]
            for h in (True, False)
        ]
        start_mean, end_mean = (sum(h) / len(h) if h else 0.0 for h in halves)
        trend = (end_mean - start_mean) / 2
        expected["sentiment_trend"] = pytest.approx(trend)
        band = _band(
            trend, conversation_config["sentiment_trend_slight"], conversation_config["sentiment_trend_strong"]
        )
        if band is not None:
            expected["sentiment_trend_band"] = band
    else:
        expected["sentiment_trend_band"] = None
    # an interruption starts before the end of the turn before it, of another party; untimed turns end nowhere
    by = {"customer": 0, "agent": 0}
    total = 0
    for (before, before_start, before_length, _, _), (speaker, start, _, _, _) in pairwise(spec):
        if before != speaker and before_length is not None and start < before_start + before_length:
            total += 1
            if {before, speaker} == {"customer", "agent"}:
                by[speaker] += 1
    expected |= {"interruptions": total, "customer_interruptions": by["customer"], "agent_interruptions": by["agent"]}
    for party in ("customer", "agent"):
        timed = [(len(w), length) for speaker, _, length, w, _ in spec if speaker == party and length and w]
        speed = sum(w for w, _ in timed) / (sum(t for _, t in timed) / 60) if timed else None
        expected[f"{party}_words_per_minute"] = None if speed is None else pytest.approx(speed)
    for party in ("agent", "bot"):
        replies = [start - customer[0][0] for speaker, start, *_ in spec if customer and speaker == party]
        expected[f"{party}_first_response_seconds"] = min((r for r in replies if r >= 0), default=None)
    return expected


turn_specs = st.lists(
    st.tuples(
        st.sampled_from(["customer", "customer", "agent", "bot"]),
        st.integers(0, 30),  # seconds after the previous turn's start
        st.one_of(st.none(), st.integers(0, 40)),  # length in seconds (0: zero-length), None: untimed
        st.lists(st.sampled_from(WORDS), max_size=6),
        st.sampled_from([-0.9, -0.5, -0.05, -0.01, 0.0, 0.05, 0.3, 0.8]),
    ),
    min_size=1,
    max_size=14,
)


@pytest.fixture(scope="module")
def database():
    """One in-memory database for every example: each example replaces the day's rows."""
    connection = duckdb.connect()
    ensure_schema(connection)
    connection.register("cost_model", pa.Table.from_pylist(cost_model_rows(load_config())))
    yield connection
    connection.close()


@settings(max_examples=60)
@given(specs=st.lists(turn_specs, min_size=1, max_size=4))
def test_signals_match_an_independent_computation(database, specs):
    conversations, turn_rows, score_rows, expected = [], [], [], {}
    for n, raw in enumerate(specs):
        cid = f"p{n}"
        offset, spec = 0, []
        for speaker, gap, length, words, compound in raw:
            offset += gap
            spec.append((speaker, offset, length, words, compound))
        duration = max(start + (length or 0) for _, start, length, _, _ in spec) + 1
        rows, scores = turn_and_score_rows(
            cid,
            [
                (
                    speaker,
                    START + timedelta(seconds=start),
                    None if length is None else START + timedelta(seconds=start + length),
                    " ".join(words),
                    compound,
                )
                for speaker, start, length, words, compound in spec
            ],
        )
        end = START + timedelta(seconds=duration)
        conversations.append(conversation(cid, "voice", start=str(START), end=str(end)))
        turn_rows += rows
        score_rows += scores
        expected[cid] = _expected(spec)
    load(database, conversations, turn_rows, score_rows)
    found = signals(database)
    assert set(found) == set(expected)
    for cid, values in expected.items():
        row = found[cid]
        assert {k: row[k] for k in values} == values, cid
        # without handoffs Chatwoot's clock is Zendesk's; whoever answered first is the earlier of agent and bot
        assert row["agent_first_response_after_handoff_seconds"] == row["agent_first_response_seconds"]
        answers = [row[f"{p}_first_response_seconds"] for p in ("agent", "bot")]
        assert row["first_response_seconds"] == min((a for a in answers if a is not None), default=None)
