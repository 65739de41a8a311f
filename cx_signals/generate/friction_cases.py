"""Friction cases: sessions that each plant one case a friction rule must get right, either a false positive that
PostHog and Datadog fixed in their own detectors or a case just either side of a threshold (docs/signals.md), so
that `cx-signals evaluate` scores every rule per case and not only on clicks planted far from its thresholds.

A case session is one page: it is entered, the case is played, and it is left; nothing else in it is friction. A
customer gets at most one, placed with a random generator of its own (seeded by the seed and the customer) and ids
of its own, so the rest of the generated data is the same with or without the cases.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING

from cx_signals.generate.params import DAY, HOUR, HOURLY
from cx_signals.generate.sessions import PRODUCTS, Device, Element, Session
from cx_signals.generate.values import overlaps

if TYPE_CHECKING:
    from cx_signals.generate.conversations import Conv
    from cx_signals.generate.world import World

CASE_SHARE = 0.3  # share of customers given one case session
APPLY: Element = ("button", None, None, "Apply")


def _burst(
    s: Session,
    target: str,
    n: int,
    gap_ms: tuple[int, int],
    step_px: tuple[int, int],
    element: Element,
    answer: bool = False,
    selection: bool = False,
) -> None:
    """`n` clicks on `target`, each `gap_ms` after the previous and `step_px` to its right; with `answer` the page
    answers every click with a DOM change 20-80 ms later, with `selection` the text selection changes 5-40 ms after
    every click; the page answers 100-400 ms after the last click."""
    r = s.rnd
    s._prepare_click()
    x, y = s._xy(target)
    for i in range(n):
        if i:
            s.t += r.randint(*gap_ms)
            x += r.randint(*step_px)
        s._event("click", s.t, target, (x, y), element=element)
        if answer:
            s._event("dom_change", s.t + r.randint(20, 80), target)
        if selection:
            s._event("selection_change", s.t + r.randint(5, 40))
    s.last_click = s.t
    s.t += r.randint(100, 400)
    s._event("dom_change", s.t, target)


def _rage(s: Session, gap_ms: tuple[int, int] = (80, 400), step_px: tuple[int, int] = (-5, 5)) -> None:
    n = s.rnd.randint(3, 6)
    _burst(s, "button#apply-coupon", n, gap_ms, step_px, APPLY)
    s.counts["rage_click_bursts"] += 1
    s.counts["rage_clicks"] += n


def _single_click(s: Session, target: str, element: Element, reaction: str | None, delay_ms: tuple[int, int]) -> None:
    """One click, answered by `reaction` `delay_ms` later (or by nothing); nothing else happens for 4-9 s."""
    r = s.rnd
    s._prepare_click()
    clicked = s.t
    s._event("click", clicked, target, s._xy(target), element=element)
    if reaction:
        s._event(reaction, clicked + r.randint(*delay_ms), target if reaction == "dom_change" else None)
    s.last_click = clicked
    s.t = clicked + r.randint(4_000, 9_000)


def _dead(s: Session, target: str, element: Element, reaction: str | None = None, delay_ms=(0, 0)) -> None:
    _single_click(s, target, element, reaction, delay_ms)
    s.counts["dead_clicks"] += 1


def rage_button(s: Session) -> None:
    """3-6 clicks on a button, 80-400 ms and < 10 px apart, answered only after the last: a rage burst."""
    _rage(s)


def rage_near_threshold(s: Session) -> None:
    """3-6 clicks 900-999 ms and 25-29 px apart, answered only after the last: a rage burst, just."""
    _rage(s, gap_ms=(900, 999), step_px=(25, 29))


def rage_text_input(s: Session) -> None:
    """3-4 quick clicks in a text input (selecting a word or line): not rage (PostHog)."""
    _burst(s, "input#coupon", s.rnd.randint(3, 4), (80, 250), (0, 4), ("input", "text", None, None))


def rage_stepper(s: Session) -> None:
    """3-6 quick clicks on a +/- stepper or a number input's arrows, each answered: not rage (PostHog)."""
    element = s.rnd.choice(
        (("button", None, None, "+"), ("button", None, None, "-"), ("input", "number", "spinbutton", None))
    )
    _burst(s, "button.quantity-step", s.rnd.randint(3, 6), (120, 400), (0, 3), element, answer=True)


def rage_next_previous(s: Session) -> None:
    """3-6 quick clicks on a carousel, pagination or date picker's next/previous control, each answered: not rage
    (PostHog)."""
    label = s.rnd.choice(("Next", "Previous", "Next month", "Prev", ">", "<"))
    _burst(s, "button.pager", s.rnd.randint(3, 6), (150, 450), (0, 3), ("button", None, None, label), answer=True)


def rage_selection(s: Session) -> None:
    """3-4 quick clicks in a paragraph, the text selection changing after each (a double or triple click): not
    rage (Datadog)."""
    _burst(s, "p.description", s.rnd.randint(3, 4), (80, 250), (0, 3), ("p", None, None, None), selection=True)


def rage_two_clicks(s: Session) -> None:
    """2 quick clicks on a button: not rage (3 are needed)."""
    _burst(s, "button#apply-coupon", 2, (80, 300), (0, 4), APPLY)


def rage_gap_over(s: Session) -> None:
    """3 clicks on a button 1,001-1,100 ms apart, each answered: not rage (gaps must be < 1,000 ms)."""
    _burst(s, "button#apply-coupon", 3, (1_001, 1_100), (0, 4), APPLY, answer=True)


def rage_distance_over(s: Session) -> None:
    """3 quick clicks on a button 31-36 px apart, each answered: not rage (moves must be < 30 px)."""
    _burst(s, "button#apply-coupon", 3, (80, 400), (31, 36), APPLY, answer=True)


def dead_unanswered(s: Session) -> None:
    """A click on a banner that nothing answers: dead."""
    _dead(s, "div.banner", ("div", None, None, None))


def dead_scroll_within(s: Session) -> None:
    """A click answered by a scroll 10-99 ms later: not dead (PostHog's 100 ms scroll window)."""
    _single_click(s, "div.read-more", ("div", None, None, None), "scroll", (10, 99))


def dead_selection_within(s: Session) -> None:
    """A click answered by a text-selection change 5-99 ms later: not dead (PostHog's 100 ms selection window)."""
    _single_click(s, "p.terms", ("p", None, None, None), "selection_change", (5, 99))


def dead_scroll_late(s: Session) -> None:
    """A click followed only by a scroll 150-2,400 ms later, which does not answer it: dead."""
    _dead(s, "div.read-more", ("div", None, None, None), "scroll", (150, 2_400))


def dead_dom_2400(s: Session) -> None:
    """A click answered by a DOM change 2,350-2,450 ms later: not dead (2,500 ms window)."""
    _single_click(s, "button#show-more", ("button", None, None, "Show more"), "dom_change", (2_350, 2_450))


def dead_dom_2600(s: Session) -> None:
    """A click answered by a DOM change only 2,550-2,650 ms later: dead."""
    _dead(s, "button#show-more", ("button", None, None, "Show more"), "dom_change", (2_550, 2_650))


def dead_link(s: Session) -> None:
    """A click on a link that opens in another tab, so nothing on the page answers: not dead (Datadog)."""
    _single_click(s, 'a[href="/help/returns"]', ("a", None, None, "Returns policy"), None, (0, 0))


def dead_form_field(s: Session) -> None:
    """A click into a text input, text area or select with nothing after it: not dead (Datadog)."""
    target, element = s.rnd.choice(
        (
            ("input#coupon", ("input", "text", None, None)),
            ("textarea#message", ("textarea", None, None, None)),
            ("select#country", ("select", None, None, None)),
        )
    )
    _single_click(s, target, element, None, (0, 0))


def session_one_burst(s: Session) -> None:
    """One rage burst and nothing else: no friction for the session (PostHog's raised bar)."""
    _rage(s)


def session_two_bursts(s: Session) -> None:
    """Two rage bursts: friction."""
    _rage(s)
    _rage(s)


def session_burst_and_dead(s: Session) -> None:
    """One rage burst and a dead click: friction."""
    _rage(s)
    _dead(s, "div.banner", ("div", None, None, None))


# Every case, by name; the name's prefix says which rule it tests: rage (rage_click_bursts > 0), dead
# (dead_clicks > 0) or session (had_friction).
CASES: dict[str, Callable[[Session], None]] = {
    case.__name__: case
    for case in (
        rage_button, rage_near_threshold, rage_text_input, rage_stepper, rage_next_previous, rage_selection,
        rage_two_clicks, rage_gap_over, rage_distance_over, dead_unanswered, dead_scroll_within,
        dead_selection_within, dead_scroll_late, dead_dom_2400, dead_dom_2600, dead_link, dead_form_field,
        session_one_burst, session_two_bursts, session_burst_and_dead,
    )
}  # fmt: skip
CASES_README = "\n".join(f"- {name}: {' '.join((case.__doc__ or '').split())}" for name, case in CASES.items())


def plant_friction_case(world: World, device: Device, convs: list[Conv]) -> None:
    """Give the customer of `device` a case session with probability CASE_SHARE, on one page, at a random time at
    least 3 hours before and 30 hours after each of their contacts (`convs`) and clear of their other sessions."""
    rnd = random.Random(f"{world.seed}:friction-case:{device.customer}")
    if rnd.random() >= CASE_SHARE:
        return
    name = rnd.choice(list(CASES))
    start = world.t0 + rnd.randrange(world.days) * DAY + rnd.choices(range(24), HOURLY)[0] * HOUR
    start += rnd.randrange(HOUR)
    s = Session(rnd, device.app, telemetry_friction=False)
    s.enter(rnd.choice(PRODUCTS))
    CASES[name](s)
    s.end()
    s.events.sort(key=lambda event: event[0])
    end = start + s.span
    zones = [(conv.start - 3 * HOUR, conv.end + 30 * HOUR) for conv in convs]
    if end < world.t1 and not overlaps(zones, start, end) and device.free(start, end):
        world._commit(device, s, start, case=name)
