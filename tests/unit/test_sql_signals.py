"""The SQL signal definitions on hand-made cases, edge cases included."""

from datetime import date, timedelta

import pytest

from cx_signals.config import load_config
from tests.conftest import event_row, insert, run_query, ts, turn_and_score_rows

DAY = date(2026, 10, 1)


def conversation(cid, channel="chat", start="2026-10-01 10:00:00", end="2026-10-01 10:10:00", **extra):
    return {
        "partition_date": DAY,
        "conversation_id": cid,
        "customer_id": "C1",
        "customer_key": "k1",
        "channel": channel,
        "started_at": ts(start),
        "ended_at": ts(end),
        "consent_analytics": True,
        **extra,
    }


def turns(cid, spec):
    """spec: (speaker, start, end or None, text, compound), times as 'YYYY-MM-DD HH:MM:SS'."""
    return turn_and_score_rows(
        cid, [(sp, ts(start), ts(end) if end else None, text, compound) for sp, start, end, text, compound in spec]
    )


def load(con, conversations, turn_rows, score_rows, events=()):
    insert(con, "raw.conversations", conversations)
    insert(con, "raw.turns", turn_rows)
    insert(con, "signals.turn_sentiment", score_rows)
    if events:
        insert(con, "raw.conversation_events", list(events))


def signals(con):
    return {
        r["conversation_id"]: r
        for r in run_query(con, "signals.conversation_signals", "signals/conversation_signals", [DAY])
    }


def test_sentiment_quarters_shift_streak_and_escalation(con):
    spec = [
        ("customer", f"2026-10-01 10:0{i}:00", None, text, score)
        for i, (text, score) in enumerate(
            [
                ("my order never arrived", -0.4),
                ("this is awful", -0.6),
                ("I want to speak to a human", -0.2),
                ("ok thanks", 0.3),
                ("great, solved", 0.6),
                ("thank you so much", 0.8),
                ("bye", 0.0),
                ("cheers", 0.5),
            ]
        )
    ]
    rows, scores = turns("c1", spec)
    load(con, [conversation("c1")], rows, scores)
    s = signals(con)["c1"]
    assert s["customer_turns"] == 8
    assert s["sentiment_start"] == pytest.approx((-0.4 - 0.6) / 2)
    assert s["sentiment_end"] == pytest.approx((0.0 + 0.5) / 2)
    assert s["sentiment_shift"] == pytest.approx(0.25 + 0.5)
    assert s["sentiment_shift_reliable"] and s["sentiment_min"] == pytest.approx(-0.6)
    assert s["longest_negative_streak"] == 3
    assert s["escalation_requests"] == 1
    assert s["first_response_seconds"] is None


def test_one_turn_conversation_with_empty_text(con):
    rows, scores = turns("c1", [("customer", "2026-10-01 10:00:00", None, "", 0.0)])
    load(con, [conversation("c1")], rows, scores)
    s = signals(con)["c1"]
    assert s["sentiment_start"] == s["sentiment_end"] == 0.0
    assert not s["sentiment_shift_reliable"]
    assert (s["repetitions"], s["escalation_requests"], s["interruptions"]) == (0, 0, 0)
    assert s["talk_ratio"] is None and s["non_talk_seconds"] is None


def test_voice_overlap_silence_hold_and_talk_ratio(con):
    rows, scores = turns(
        "v1",
        [
            ("customer", "2026-10-01 10:00:00", "2026-10-01 10:00:10", "hello my card was charged twice", -0.3),
            ("agent", "2026-10-01 10:00:08", "2026-10-01 10:00:20", "let me check", 0.0),  # interrupts (8 < 10)
            ("customer", "2026-10-01 10:00:30", "2026-10-01 10:00:35", "ok", 0.2),  # 10 s silence
            ("agent", "2026-10-01 10:00:37", "2026-10-01 10:00:40", "one moment", 0.0),  # 2 s gap: not silence
            ("agent", "2026-10-01 10:02:40", "2026-10-01 10:03:00", "thanks for holding", 0.4),  # 120 s gap, 100 s hold
        ],
    )
    hold = [
        {"partition_date": DAY, "conversation_id": "v1", "event_index": i, "event_type": kind, "ts": ts(moment)}
        for i, (kind, moment) in enumerate([("hold_start", "2026-10-01 10:00:50"), ("hold_end", "2026-10-01 10:02:30")])
    ]
    load(con, [conversation("v1", "voice", end="2026-10-01 10:03:20")], rows, scores, hold)
    s = signals(con)["v1"]
    assert s["interruptions"] == 1
    assert s["hold_seconds"] == 100
    # silences: 10 s (10:00:20-10:00:30) + 120 s gap minus 100 s hold = 20 s; total non-talk = 100 + 10 + 20
    assert s["non_talk_seconds"] == pytest.approx(130)
    assert s["agent_talk_seconds"] == pytest.approx(12 + 3 + 20)
    assert s["talk_ratio"] == pytest.approx(35 / 200)
    assert s["first_response_seconds"] == 8


def test_repetition_and_handoff(con):
    rows, scores = turns(
        "c2",
        [
            ("customer", "2026-10-01 10:00:00", None, "I need to change my delivery address please", 0.0),
            ("bot", "2026-10-01 10:00:02", None, "Which order?", 0.0),
            ("customer", "2026-10-01 10:00:30", None, "please I need to change my delivery address", 0.0),
            ("agent", "2026-10-01 10:01:00", None, "I can help", 0.4),
        ],
    )
    handoff = [
        {
            "partition_date": DAY,
            "conversation_id": "c2",
            "event_index": 0,
            "event_type": "handoff_to_agent",
            "ts": ts("2026-10-01 10:00:50"),
        }
    ]
    load(con, [conversation("c2")], rows, scores, handoff)
    s = signals(con)["c2"]
    assert (s["repetitions"], s["handoffs"], s["bot_turns"], s["agent_turns"]) == (1, 1, 1, 1)
    assert s["agent_joined_at"] == ts("2026-10-01 10:00:50")
    assert s["first_response_seconds"] == 2


def test_repetition_compares_each_turn_with_a_bounded_window_of_earlier_turns(con):
    lookback = load_config()["conversation"]["repetition_lookback_turns"]
    request = "I need to change my delivery address please"
    fillers = [f"alpha{i} beta{i} gamma{i} delta{i}" for i in range(lookback)]
    texts = [request, *fillers, request]  # the restatement is lookback + 1 customer turns after the first
    rows, scores = turns(
        "c7",
        [("customer", f"2026-10-01 10:{i // 60:02d}:{i % 60:02d}", None, t, 0.0) for i, t in enumerate(texts)],
    )
    load(con, [conversation("c7", end="2026-10-01 11:00:00")], rows, scores)
    assert signals(con)["c7"]["repetitions"] == 0
    config = load_config().merged({"conversation": {"repetition_lookback_turns": lookback + 1}})
    found = run_query(con, "signals.conversation_signals", "signals/conversation_signals", [DAY], config)
    assert next(r for r in found if r["conversation_id"] == "c7")["repetitions"] == 1


def test_repetition_on_a_20000_turn_conversation_is_linear(con):
    n = 20_000
    start = ts("2026-10-01 00:00:00")
    rows, scores = turn_and_score_rows(
        "c8", [("customer", start + timedelta(seconds=i), None, "where is my order please", 0.0) for i in range(n)]
    )
    load(con, [conversation("c8", start="2026-10-01 00:00:00", end="2026-10-01 23:00:00")], rows, scores)
    # every turn restates the one before; an all-pairs comparison would build 200 million pairs here
    assert signals(con)["c8"]["repetitions"] == n - 1


def test_non_consented_conversations_are_excluded(con):
    rows, scores = turns("c3", [("customer", "2026-10-01 10:00:00", None, "hi", 0.0)])
    load(con, [conversation("c3", consent_analytics=False)], rows, scores)
    assert signals(con) == {}


def event(i, kind, moment, session="s1", x=None, y=None, day=DAY, anonymous="a1", page="/checkout"):
    row = event_row(f"e{i}", moment, kind, session_id=session, x=x, y=y, anonymous_id=anonymous, page=page)
    return {**row, "partition_date": day}


def friction(con, events, telemetry=()):
    insert(con, "raw.events", events)
    if telemetry:
        insert(con, "raw.telemetry", list(telemetry))
    return {r["session_key"]: r for r in run_query(con, "signals.session_friction", "signals/session_friction", [DAY])}


def clicks(offsets_ms, dx=0, start="2026-10-01 10:00:00", first_id=0):
    base = ts(start)
    return [
        event(first_id + i, "click", base + timedelta(milliseconds=ms), x=100 + i * dx, y=100)
        for i, ms in enumerate(offsets_ms)
    ]


def test_rage_click_thresholds_are_strict(con):
    # 999 ms apart, 29 px apart: a burst; 1000 ms apart or 30 px apart: not.
    s = friction(con, clicks([0, 999, 1998], dx=29))["sid:s1"]
    assert (s["rage_click_bursts"], s["rage_clicks"]) == (1, 3)


@pytest.mark.parametrize(("offsets", "dx"), [([0, 1000, 2000], 0), ([0, 500, 1000], 30), ([0, 300], 0)])
def test_not_rage_clicks(con, offsets, dx):
    assert friction(con, clicks(offsets, dx=dx))["sid:s1"]["rage_click_bursts"] == 0


def test_dead_and_error_clicks(con):
    base = ts("2026-10-01 10:00:00")
    events = [
        event(0, "click", base, x=10, y=10),
        event(1, "dom_change", base + timedelta(milliseconds=2500)),  # exactly 2500 ms: not dead
        event(2, "click", base + timedelta(seconds=10), x=500, y=500),  # nothing after: dead
        event(3, "click", base + timedelta(seconds=20), x=900, y=900),
        event(4, "scroll", base + timedelta(milliseconds=22501)),  # 2501 ms later: dead
    ]
    error = {
        "partition_date": DAY,
        "record_key": "r1",
        "ts": base + timedelta(seconds=20, milliseconds=1000),
        "session_id": "s1",
        "app": "web",
        "kind": "error",
        "name": "TypeError",
    }
    s = friction(con, events, [error])["sid:s1"]
    assert (s["dead_clicks"], s["error_clicks"], s["errors"]) == (2, 1, 1)


def test_quick_back_slow_page_crash_and_score(
    con,
):
    base = ts("2026-10-01 10:00:00")
    events = [
        event(0, "page_view", base, page="/cart"),
        event(1, "page_view", base + timedelta(seconds=5), page="/help"),
        event(2, "page_view", base + timedelta(seconds=14), page="/cart"),
        event(3, "form_error", base + timedelta(seconds=20)),
        event(4, "help_view", base + timedelta(seconds=30)),
    ]
    telemetry = [
        {
            "partition_date": DAY,
            "record_key": f"r{i}",
            "ts": base,
            "session_id": "s1",
            "app": "web",
            "kind": kind,
            "name": "/cart",
            "duration_ms": duration,
        }
        for i, (kind, duration) in enumerate([("latency", 4001.0), ("latency", 4000.0), ("crash", None)])
    ]
    s = friction(con, events, telemetry)["sid:s1"]
    assert (s["quick_backs"], s["slow_pages"], s["crashes"], s["form_errors"], s["help_views"]) == (1, 1, 1, 1, 1)
    assert s["friction_score"] == pytest.approx(1.0 + 1.0 + 4.0 + 1.5 + 0.5)
    assert s["had_friction"]


def test_sessionisation_without_session_id_and_across_midnight(con):
    late = ts("2026-10-01 23:50:00")
    events = [
        event(i, "page_view", late + timedelta(minutes=m), session=None, day=(late + timedelta(minutes=m)).date())
        for i, m in enumerate([0, 15, 29])
    ]
    events.append(event(9, "page_view", late + timedelta(minutes=60), session=None, day=date(2026, 10, 2)))
    sessions = friction(con, events)
    assert len(sessions) == 1  # the session starting on the 2nd belongs to the 2nd's partition
    (only,) = sessions.values()
    assert only["n_events"] == 3 and only["session_end"] == late + timedelta(minutes=29)
    assert only["partition_date"] == DAY


def test_sessions_of_customers_without_consent_are_left_out_even_when_logged_out(con):
    insert(con, "raw.conversations", [conversation("c9", consent_analytics=False, customer_key="refuser")])
    base = ts("2026-10-01 12:00:00")
    logged_in = event(0, "page_view", base, session="in", anonymous="dev9")
    logged_in["customer_key"] = "refuser"
    logged_out = event(1, "page_view", base + timedelta(hours=2), session="out", anonymous="dev9")
    logged_out["customer_key"] = None
    someone_else = event(2, "page_view", base, session="other", anonymous="dev1")
    assert set(friction(con, [logged_in, logged_out, someone_else])) == {"sid:other"}


def on(rows, tag=None, kind=None, role=None, text=None):
    """The rows as events on one element (raw.events element_*)."""
    element = {"element_tag": tag, "element_type": kind, "element_role": role, "element_text": text}
    return [{**row, **element} for row in rows]


@pytest.mark.parametrize(
    ("element", "bursts"),
    [
        ({"tag": "button", "text": "Pay now"}, 1),
        ({"tag": "a"}, 1),
        ({"tag": "input"}, 0),  # an input without a type is a text input
        ({"tag": "INPUT", "kind": "Search"}, 0),
        ({"tag": "input", "kind": "checkbox"}, 1),
        ({"tag": "textarea"}, 0),
        ({"tag": "div", "role": "textbox"}, 0),  # contenteditable
        ({"tag": "input", "kind": "number"}, 0),
        ({"tag": "div", "role": "spinbutton"}, 0),
        ({"tag": "button", "text": "+"}, 0),
        ({"tag": "button", "text": "−"}, 0),
        ({"tag": "button", "text": "Next page"}, 0),
        ({"tag": "button", "text": "  Previous "}, 0),
        ({"tag": "span", "text": ">"}, 0),
        ({"tag": "button", "text": "Nextday delivery"}, 1),  # a word of the text, not a substring
    ],
)
def test_rage_clicks_on_text_inputs_steppers_and_next_previous_controls_are_not_rage(con, element, bursts):
    assert friction(con, on(clicks([0, 200, 400]), **element))["sid:s1"]["rage_click_bursts"] == bursts


@pytest.mark.parametrize(("selection_ms", "bursts"), [(250, 0), (400, 0), (401, 1), (None, 1)])
def test_a_selection_change_between_the_clicks_of_a_run_makes_it_no_rage_burst(con, selection_ms, bursts):
    rows = clicks([0, 200, 400])
    if selection_ms is not None:
        rows.append(event(9, "selection_change", ts("2026-10-01 10:00:00") + timedelta(milliseconds=selection_ms)))
    assert friction(con, rows)["sid:s1"]["rage_click_bursts"] == bursts


@pytest.mark.parametrize(
    ("answer", "after_ms", "dead"),
    [
        ("scroll", 100, 0),
        ("scroll", 101, 1),  # the scroll window is 100 ms
        ("selection_change", 60, 0),
        ("selection_change", 2000, 1),
        ("dom_change", 2500, 0),
        ("dom_change", 2501, 1),
        ("input", 1200, 0),
        ("page_leave", 2400, 0),
    ],
)
def test_dead_clicks_have_separate_windows_for_scroll_or_selection_and_for_dom_changes(con, answer, after_ms, dead):
    base = ts("2026-10-01 10:00:00")
    rows = [event(0, "click", base, x=10, y=10), event(1, answer, base + timedelta(milliseconds=after_ms))]
    assert friction(con, rows)["sid:s1"]["dead_clicks"] == dead


@pytest.mark.parametrize(
    ("element", "dead"),
    [
        ({"tag": "a"}, 0),
        ({"tag": "span", "role": "link"}, 0),
        ({"tag": "input", "kind": "email"}, 0),
        ({"tag": "select"}, 0),
        ({"tag": "textarea"}, 0),
        ({"tag": "input", "kind": "submit"}, 1),
        ({"tag": "button"}, 1),
        ({}, 1),
    ],
)
def test_unanswered_clicks_on_links_and_form_fields_are_not_dead(con, element, dead):
    rows = on([event(0, "click", ts("2026-10-01 10:00:00"), x=10, y=10)], **element)
    assert friction(con, rows)["sid:s1"]["dead_clicks"] == dead


@pytest.mark.parametrize(
    ("offsets", "dead_click", "score", "had"),
    [
        ([0, 200, 400], False, 3.0, False),  # one burst alone: no friction
        ([0, 200, 400, 5000, 5200, 5400], False, 6.0, True),  # two bursts
        ([0, 200, 400], True, 4.0, True),  # one burst and a dead click
    ],
)
def test_one_rage_burst_alone_does_not_make_a_session_have_friction(con, offsets, dead_click, score, had):
    base = ts("2026-10-01 10:00:00")
    rows = clicks(offsets)
    rows += [event(20 + i, "dom_change", base + timedelta(milliseconds=ms + 100)) for i, ms in enumerate(offsets)]
    if dead_click:
        rows.append(event(40, "click", base + timedelta(seconds=30), x=900, y=900))
    s = friction(con, rows)["sid:s1"]
    assert (s["friction_score"], s["had_friction"]) == (pytest.approx(score), had)
