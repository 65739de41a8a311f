"""The naive friction rules `cx-signals evaluate` compares the pipeline's rules with (cx_signals.truth)."""

from datetime import datetime, timedelta

import polars as pl

from cx_signals.config import load_config
from cx_signals.truth import naive_friction

FRICTION = load_config().friction
T0 = datetime(2026, 10, 1, 12)


def session(*events: tuple[int, str, int | None, int | None]) -> pl.DataFrame:
    """Events (ms after T0, type, x, y) as the rows naive_friction reads."""
    return pl.DataFrame(
        [{"ts": T0 + timedelta(milliseconds=ms), "event_type": kind, "x": x, "y": y} for ms, kind, x, y in events],
        schema={"ts": pl.Datetime("us"), "event_type": pl.String, "x": pl.Int64, "y": pl.Int64},
    )


def test_three_fast_close_clicks_are_a_burst_whatever_answers_them():
    gap = FRICTION.rage_click_max_gap_ms - 1
    clicks = [(i * gap, "click", 100 + i, 200) for i in range(3)]
    answered = [(ms + 30, "dom_change", None, None) for ms, *_ in clicks]
    assert naive_friction(session(*clicks, *answered), FRICTION) == (1, 0)


def test_a_gap_at_the_threshold_or_a_long_move_breaks_the_run():
    gap, far = FRICTION.rage_click_max_gap_ms, FRICTION.rage_click_max_distance_px
    slow = session(*((i * gap, "click", 100, 200) for i in range(3)), (3 * gap, "dom_change", None, None))
    spread = session(*((i * 100, "click", 100 + i * far, 200) for i in range(3)), (400, "dom_change", None, None))
    assert naive_friction(slow, FRICTION) == (0, 1)  # the first click's answer comes after the window
    assert naive_friction(spread, FRICTION) == (0, 0)


def test_clicks_without_a_position_never_form_a_burst():
    events = session(*((i * 100, "click", None, None) for i in range(4)), (500, "page_view", None, None))
    assert naive_friction(events, FRICTION) == (0, 0)


def test_a_late_scroll_answers_a_click_and_a_selection_change_does_not():
    window = FRICTION.dead_click_window_ms
    scrolled = session((0, "click", 10, 10), (window, "scroll", None, None))
    selected = session((0, "click", 10, 10), (50, "selection_change", None, None))
    late = session((0, "click", 10, 10), (window + 1, "dom_change", None, None))
    assert [naive_friction(s, FRICTION)[1] for s in (scrolled, selected, late)] == [0, 1, 1]
