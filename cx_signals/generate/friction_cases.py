"""Friction cases: sessions that each play one scenario a friction rule is judged on, either a false positive that
PostHog and Datadog fixed in their own detectors or a scenario near a threshold (docs/signals.md). Each case says
what happened to the user, whatever a rule makes of it: for rage and session cases whether the user was frustrated,
for dead-click cases whether the page answered the click. `cx-signals evaluate` scores the rules against that, so
the cases a threshold misreads (a frustrated user clicking 1.1 s apart, a page answering at 2.6 s) show as misses
and false alarms; the session's counts stay what the rules as specified find (`_truth/README.md`).

A case session is one page: it is entered, the case is played, and it is left; nothing else in it is friction. A
customer gets at most one, placed with a random generator of its own (seeded by the seed and the customer) and ids
of its own, so the rest of the generated data is the same with or without the cases.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cx_signals.generate.params import DAY, HOUR, HOURLY
from cx_signals.generate.sessions import PRODUCTS, Device, Element, Session, _friction_defaults
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
    gap_ms: tuple[int, int] | list[tuple[int, int]],
    step_px: tuple[int, int],
    element: Element,
    answer: bool = False,
    selection: bool = False,
) -> list[int]:
    """`n` clicks on `target`, each `gap_ms` after the previous (one range for all, or one per gap) and `step_px` to
    its right; with `answer` the page answers every click with a DOM change 20-80 ms later, with `selection` the
    text selection changes 5-40 ms after every click; the page answers 100-400 ms after the last click. Returns the
    clicks' times and, last, the time of that answer (ms)."""
    r = s.rnd
    gaps = gap_ms if isinstance(gap_ms, list) else [gap_ms] * (n - 1)
    s._prepare_click()
    x, y = s._xy(target)
    times = []
    for i in range(n):
        if i:
            s.t += r.randint(*gaps[i - 1])
            x += r.randint(*step_px)
        s._event("click", s.t, target, (x, y), element=element)
        times.append(s.t)
        if answer:
            s._event("dom_change", s.t + r.randint(20, 80), target)
        if selection:
            s._event("selection_change", s.t + r.randint(5, 40))
    s.last_click = s.t
    s.t += r.randint(100, 400)
    s._event("dom_change", s.t, target)
    return [*times, s.t]


def _rage(
    s: Session,
    gap_ms: tuple[int, int] = (80, 400),
    step_px: tuple[int, int] = (-5, 5),
    clicks: tuple[int, int] = (3, 6),
) -> None:
    n = s.rnd.randint(*clicks)
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


def _habit_click(s: Session, target: str, element: Element) -> None:
    """A double click out of habit, then one more click 400-900 ms later, 0-4 px apart, on a control that answers
    every click 20-80 ms later: three clicks that pass for a rage burst."""
    _burst(s, target, 3, [(80, 200), (400, 900)], (0, 4), element, answer=True)
    s.counts["rage_click_bursts"] += 1
    s.counts["rage_clicks"] += 3


@dataclass(frozen=True)
class FrictionCase:
    """A planted scenario: `play` writes it into a session (and its counts: what the rules as specified find);
    `rule` is the rule it tests (rage: rage_click_bursts > 0, dead: dead_clicks > 0, session: had_friction) and
    `positive` what happened, whatever the rule makes of it: the user was frustrated (rage, session) or the page
    did not answer the click (dead)."""

    play: Callable[[Session], None]
    rule: str
    positive: bool

    @property
    def description(self) -> str:
        """The scenario, from `play`'s docstring, on one line."""
        return " ".join((self.play.__doc__ or "").split())


CASES: dict[str, FrictionCase] = {}


def case(rule: str, positive: bool) -> Callable[[Callable[[Session], None]], Callable[[Session], None]]:
    """Register the decorated scenario in CASES under its name (which starts with `rule`)."""

    def register(play: Callable[[Session], None]) -> Callable[[Session], None]:
        assert play.__name__.startswith(f"{rule}_"), play.__name__
        CASES[play.__name__] = FrictionCase(play, rule, positive)
        return play

    return register


FRUSTRATED, CALM = True, False  # rage and session cases: was the user frustrated?
IGNORED, ANSWERED = True, False  # dead cases: did the page leave the click unanswered?
POSITIVE_WORD = {
    "rage": {FRUSTRATED: "frustrated", CALM: "calm"},
    "dead": {IGNORED: "ignored", ANSWERED: "answered"},
    "session": {FRUSTRATED: "frustrated", CALM: "calm"},
}


@case("rage", FRUSTRATED)
def rage_button(s: Session) -> None:
    """A frustrated user: 3-6 clicks on a button, 80-400 ms and < 10 px apart, answered only after the last."""
    _rage(s)


@case("rage", FRUSTRATED)
def rage_near_threshold(s: Session) -> None:
    """A frustrated user: 3-6 clicks 900-999 ms and 25-29 px apart, answered only after the last (a rage burst,
    just)."""
    _rage(s, gap_ms=(900, 999), step_px=(25, 29))


@case("rage", FRUSTRATED)
def rage_slow_hammer(s: Session) -> None:
    """A frustrated user hammering a button that does nothing: 3-5 clicks 1,050-1,200 ms apart, answered only
    after the last; the 1,000 ms gap rule misses it (the clicks the answer comes more than 2,500 ms after are dead
    clicks)."""
    times = _burst(s, "button#apply-coupon", s.rnd.randint(3, 5), (1_050, 1_200), (-5, 5), APPLY)
    window = _friction_defaults().dead_click_window_ms
    s.counts["dead_clicks"] += sum(times[-1] - clicked > window for clicked in times[:-1])


@case("rage", CALM)
def rage_habit_double_click(s: Session) -> None:
    """A calm user who double-clicks out of habit, then clicks once more 400-900 ms later, on a button that
    answers every click: not frustrated, though the rule counts a rage burst."""
    _habit_click(s, "button#add-to-cart", ("button", None, None, "Add to cart"))


@case("rage", CALM)
def rage_text_input(s: Session) -> None:
    """3-4 quick clicks in a text input, selecting a word or line: not frustration (PostHog)."""
    _burst(s, "input#coupon", s.rnd.randint(3, 4), (80, 250), (0, 4), ("input", "text", None, None))


@case("rage", CALM)
def rage_stepper(s: Session) -> None:
    """3-6 quick clicks on a +/- stepper or a number input's arrows, each answered: counting up, not frustration
    (PostHog)."""
    element = s.rnd.choice(
        (("button", None, None, "+"), ("button", None, None, "-"), ("input", "number", "spinbutton", None))
    )
    _burst(s, "button.quantity-step", s.rnd.randint(3, 6), (120, 400), (0, 3), element, answer=True)


@case("rage", CALM)
def rage_next_previous(s: Session) -> None:
    """3-6 quick clicks on a carousel, pagination or date picker's next/previous control, each answered: browsing,
    not frustration (PostHog)."""
    label = s.rnd.choice(("Next", "Previous", "Next month", "Prev", ">", "<"))
    _burst(s, "button.pager", s.rnd.randint(3, 6), (150, 450), (0, 3), ("button", None, None, label), answer=True)


@case("rage", CALM)
def rage_selection(s: Session) -> None:
    """3-4 quick clicks in a paragraph, the text selection changing after each (a double or triple click):
    selecting text, not frustration (Datadog)."""
    _burst(s, "p.description", s.rnd.randint(3, 4), (80, 250), (0, 3), ("p", None, None, None), selection=True)


@case("rage", CALM)
def rage_two_clicks(s: Session) -> None:
    """A double click on a button: not frustration (and not rage: 3 clicks are needed)."""
    _burst(s, "button#apply-coupon", 2, (80, 300), (0, 4), APPLY)


@case("rage", CALM)
def rage_gap_over(s: Session) -> None:
    """3 deliberate clicks on a button 1,001-1,100 ms apart, each answered: not frustration (nor rage)."""
    _burst(s, "button#apply-coupon", 3, (1_001, 1_100), (0, 4), APPLY, answer=True)


@case("rage", CALM)
def rage_distance_over(s: Session) -> None:
    """3 quick clicks on a button 31-36 px apart, each answered: not frustration (nor rage: moves must be < 30
    px)."""
    _burst(s, "button#apply-coupon", 3, (80, 400), (31, 36), APPLY, answer=True)


@case("dead", IGNORED)
def dead_unanswered(s: Session) -> None:
    """A click on a banner that nothing answers: ignored, a dead click."""
    _dead(s, "div.banner", ("div", None, None, None))


@case("dead", ANSWERED)
def dead_scroll_within(s: Session) -> None:
    """A click answered by the scroll it causes 10-99 ms later: answered (PostHog's 100 ms scroll window)."""
    _single_click(s, "div.read-more", ("div", None, None, None), "scroll", (10, 99))


@case("dead", ANSWERED)
def dead_selection_within(s: Session) -> None:
    """A click answered by the text-selection change it causes 5-99 ms later: answered (PostHog's 100 ms selection
    window)."""
    _single_click(s, "p.terms", ("p", None, None, None), "selection_change", (5, 99))


@case("dead", IGNORED)
def dead_scroll_late(s: Session) -> None:
    """A click nothing answers, then the user scrolls 150-2,400 ms later: ignored, a dead click."""
    _dead(s, "div.read-more", ("div", None, None, None), "scroll", (150, 2_400))


@case("dead", ANSWERED)
def dead_dom_2400(s: Session) -> None:
    """A click answered by a DOM change 2,350-2,450 ms later: answered (within the 2,500 ms window)."""
    _single_click(s, "button#show-more", ("button", None, None, "Show more"), "dom_change", (2_350, 2_450))


@case("dead", ANSWERED)
def dead_slow_load_more(s: Session) -> None:
    """A click on a slow "Load more" that answers with a DOM change 2,550-2,650 ms later: answered, though the
    2,500 ms window counts a dead click."""
    _dead(s, "button#load-more", ("button", None, None, "Load more"), "dom_change", (2_550, 2_650))


@case("dead", ANSWERED)
def dead_link(s: Session) -> None:
    """A click on a link that opens in another tab, so nothing on the page changes: answered (Datadog)."""
    _single_click(s, 'a[href="/help/returns"]', ("a", None, None, "Returns policy"), None, (0, 0))


@case("dead", IGNORED)
def dead_broken_link(s: Session) -> None:
    """A click on a broken in-page link (href "#", its handler failing) that nothing answers: ignored, though the
    rule skips every link (Datadog's trade-off)."""
    _single_click(s, 'a[href="#"]', ("a", None, None, "Track my parcel"), None, (0, 0))


@case("dead", ANSWERED)
def dead_form_field(s: Session) -> None:
    """A click into a text input, text area or select, which takes the focus: answered (Datadog)."""
    target, element = s.rnd.choice(
        (
            ("input#coupon", ("input", "text", None, None)),
            ("textarea#message", ("textarea", None, None, None)),
            ("select#country", ("select", None, None, None)),
        )
    )
    _single_click(s, target, element, None, (0, 0))


@case("session", FRUSTRATED)
def session_one_burst(s: Session) -> None:
    """A frustrated user's single long rage burst (6-10 clicks) and nothing else: friction, though one burst alone
    no longer marks the session (PostHog's raised bar)."""
    _rage(s, clicks=(6, 10))


@case("session", FRUSTRATED)
def session_two_bursts(s: Session) -> None:
    """Two rage bursts: friction."""
    _rage(s)
    _rage(s)


@case("session", FRUSTRATED)
def session_burst_and_dead(s: Session) -> None:
    """One rage burst and a click nothing answers: friction."""
    _rage(s)
    _dead(s, "div.banner", ("div", None, None, None))


@case("session", CALM)
def session_one_habit_burst(s: Session) -> None:
    """A calm user's habit triple click on a button that answers each click, and nothing else: no friction (one
    burst alone does not mark the session)."""
    _habit_click(s, "button#add-to-cart", ("button", None, None, "Add to cart"))


@case("session", CALM)
def session_two_habit_bursts(s: Session) -> None:
    """A calm user's habit triple clicks on two buttons that answer each click: no friction, though the two bursts
    mark the session."""
    _habit_click(s, "button#add-to-cart", ("button", None, None, "Add to cart"))
    _habit_click(s, "button#save-for-later", ("button", None, None, "Save for later"))


CASES_README = "\n".join(
    f"- {name} ({c.rule}, {POSITIVE_WORD[c.rule][c.positive]}): {c.description}" for name, c in CASES.items()
)


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
    CASES[name].play(s)
    s.end()
    s.events.sort(key=lambda event: event[0])
    end = start + s.span
    zones = [(conv.start - 3 * HOUR, conv.end + 30 * HOUR) for conv in convs]
    if end < world.t1 and not overlaps(zones, start, end) and device.free(start, end):
        world._commit(device, s, start, case=name)
