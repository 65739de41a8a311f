"""Web and app sessions: the site map, one session's events and telemetry on a relative clock, friction
scenarios, ordinary flows, and the devices sessions are placed on."""

from __future__ import annotations

import json
import random
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from cx_signals.config import FrictionParameters, load_config
from cx_signals.generate.params import (
    API_SAMPLE,
    CLICK_SPACING_MS,
    DEVICE_GAP_MS,
    HOUR,
    LATENCY_SAMPLE,
    MIN_DWELL_MS,
)
from cx_signals.generate.values import overlaps

# Site map: pages and the named elements clicked on them.
PRODUCTS = (
    "/products/wireless-earbuds", "/products/smart-speaker", "/products/phone-case",
    "/products/usb-c-charger", "/products/fitness-band", "/products/laptop-stand",
)  # fmt: skip
ACCOUNT_PAGES = ("/account/settings", "/account/address", "/billing", "/subscription", "/orders")
HELP_ARTICLES = (
    "reset-password", "account-locked", "track-your-order", "refunds-and-returns", "update-payment-method",
    "cancel-subscription", "app-troubleshooting", "change-delivery-address", "understanding-your-bill",
    "troubleshooting",
)  # fmt: skip
SEARCH_QUERIES = ("earbuds", "charger", "refund", "invoice", "delivery times", "cancel", "speaker")
CARD_FIELDS = ("card_number", "expiry", "cvc")
DECOY_TARGETS = ("img.product-gallery", "button#load-more", "div.carousel-next", "span.price-info")
JS_ERRORS = (
    ("TypeError", None, "Cannot read properties of undefined (reading 'total')"),
    ("HTTP 500", 500, "POST /api/account failed: Internal Server Error"),
    ("HTTP 503", 503, "GET /api/orders failed: Service Unavailable"),
    ("HTTP 502", 502, "PUT /api/settings failed: Bad Gateway"),
)
CRASHES = {
    "ios": (("EXC_BAD_ACCESS", "SIGSEGV in OrdersViewController.reload"),
            ("NSInternalInconsistencyException", "Invalid update: invalid number of rows in section 0")),
    "android": (("java.lang.IllegalStateException", "Fragment OrdersFragment not attached to a context"),
                ("java.lang.NullPointerException", "Attempt to invoke virtual method on a null object")),
}  # fmt: skip
API_ENDPOINTS = ("/api/cart", "/api/orders", "/api/account", "/api/search", "/api/recommendations")

FRICTION_COUNTS = (
    "rage_click_bursts", "rage_clicks", "dead_clicks", "error_clicks", "form_errors", "quick_backs",
    "slow_pages", "crashes", "help_views", "errors",
)  # fmt: skip
# The clicked or changed element a target selector names: tag, input type, ARIA role, text (raw.events element_*).
Element = tuple[str | None, str | None, str | None, str | None]
INPUT_TYPES = {"email": "email", "password": "password", "search": "search", "card_number": "tel", "cvc": "tel"}
_TAG = re.compile(r"[a-z]+")


def element_of(target: str | None) -> Element:
    """The element a selector such as button#save, a[href="/x"] or input#email names: its tag and, for an input,
    its type (text unless INPUT_TYPES says otherwise); role and text are unknown."""
    if target is None:
        return None, None, None, None
    match = _TAG.match(target)
    tag = match[0] if match else None
    input_type = INPUT_TYPES.get(target.split("#", 1)[-1], "text") if tag == "input" else None
    return tag, input_type, None, None


@cache
def _friction_defaults() -> FrictionParameters:
    return load_config().friction


def had_friction(counts: dict[str, int]) -> bool:
    """signals.session_friction.had_friction of a session with these planted counts, under the default config: a
    score at or above the threshold, where rage bursts alone count only from friction.session_min_rage_bursts."""
    config = _friction_defaults()
    weights = config.score_weights
    rage = weights["rage_clicks"] * counts["rage_click_bursts"]
    others = sum(weight * counts[part] for part, weight in weights.items() if part != "rage_clicks")
    bursts = counts["rage_click_bursts"]
    return rage + others >= config.session_friction_threshold and (
        bursts == 0 or bursts >= config.session_min_rage_bursts or others > 0
    )


class Session:
    """One web/app session built on a relative clock (ms from its first event)."""

    def __init__(self, rnd: random.Random, app: str, telemetry_friction: bool) -> None:
        self.rnd = rnd
        self.app = app
        self.telemetry_friction = telemetry_friction
        self.width, self.height = (1440, 2600) if app == "web" else (390, 1500)
        self.events: list[tuple[int, str, str | None, str | None, int | None, int | None, str | None, *Element]] = []
        self.telemetry: list[tuple[int, str, str, int | None, float | None, str | None]] = []
        self.counts = dict.fromkeys(FRICTION_COUNTS, 0)
        self.friction_at: list[int] = []  # when each planted friction item happened
        self.t = 0
        self.page: str | None = None
        self.viewed_at = 0
        self.last_click = -HOUR
        self.crashed = False

    @property
    def span(self) -> int:
        """Time from the first event to the last event or telemetry row (ms)."""
        last = self.events[-1][0] if self.events else 0
        return max([last, *(row[0] for row in self.telemetry)])

    def _event(
        self,
        event_type: str,
        t: int,
        target: str | None = None,
        xy: tuple[int, int] | None = None,
        props: dict[str, object] | None = None,
        element: Element | None = None,
    ) -> None:
        x, y = xy if xy else (None, None)
        payload = json.dumps(props, separators=(",", ":"), sort_keys=True) if props else None
        self.events.append((t, event_type, self.page, target, x, y, payload, *(element or element_of(target))))

    def _xy(self, target: str) -> tuple[int, int]:
        base = zlib.crc32(target.encode())
        x = 20 + base % (self.width - 40) + self.rnd.randint(-8, 8)
        y = 20 + (base >> 11) % (self.height - 40) + self.rnd.randint(-8, 8)
        return x, y

    def _prepare_click(self) -> None:
        self.t = max(self.t + self.rnd.randint(600, 3_000), self.last_click + CLICK_SPACING_MS)

    def _click(self, target: str, xy: tuple[int, int] | None = None) -> int:
        xy = xy or self._xy(target)
        self._event("click", self.t, target, xy)
        self.last_click = self.t
        if self.rnd.random() < API_SAMPLE:
            endpoint = self.rnd.choice(API_ENDPOINTS)
            self._telemetry(self.t + self.rnd.randint(50, 400), "api_call", endpoint, 200, self.rnd.randint(40, 900))
        return self.t

    def _telemetry(
        self, t: int, kind: str, name: str, status: int | None, duration: float | None, message: str | None = None
    ) -> None:
        self.telemetry.append((t, kind, name, status, duration, message))

    def _view(self, page: str, slow: bool = False, props: dict[str, object] | None = None) -> None:
        self.page = page
        t = self.t
        self.viewed_at = t
        self._event("page_view", t, props=props)
        if slow:
            assert self.telemetry_friction, "slow pages need session-linked telemetry"
            duration = self.rnd.randint(5_500, 12_000)
            self._telemetry(t + duration, "latency", page, 200, float(duration))
            self.counts["slow_pages"] += 1
            self.friction_at.append(t + duration)
            self.t = t + duration
        elif self.rnd.random() < LATENCY_SAMPLE:
            duration = min(1_500, 100 + int(self.rnd.expovariate(1 / 350)))
            self._telemetry(t + duration, "latency", page, 200, float(duration))
            self.t = t + duration

    def enter(self, page: str, slow: bool = False) -> None:
        """First page of the session."""
        self._view(page, slow, {"referrer": self.rnd.choice(("direct", "search", "email", "app"))})

    def nav(self, page: str, slow: bool = False) -> None:
        """Click a link to another page after an ordinary dwell."""
        self.t = max(self.t, self.viewed_at + MIN_DWELL_MS)
        self._prepare_click()
        clicked = self._click(f'a[href="{page}"]')
        self.t = clicked + self.rnd.randint(100, 800)
        self._view(page, slow)

    def go(self, page: str, slow: bool = False) -> None:
        """Be on `page`: enter it, navigate to it, or stay."""
        if self.page is None:
            self.enter(page, slow)
        elif self.page != page:
            self.nav(page, slow)

    def press(
        self, target: str, event: str | None = None, props: dict[str, object] | None = None, to_page: str | None = None
    ) -> None:
        """An ordinary click; the page answers with a DOM change or a new page within 800 ms."""
        if to_page:
            self.t = max(self.t, self.viewed_at + MIN_DWELL_MS)
        self._prepare_click()
        clicked = self._click(target)
        if event:
            self._event(event, clicked + self.rnd.randint(10, 60), props=props)
        self.t = clicked + self.rnd.randint(100, 800)
        if to_page:
            self._view(to_page)
        else:
            self._event("dom_change", self.t, target)

    def scroll(self) -> None:
        self.t += self.rnd.randint(800, 4_000)
        self._event("scroll", self.t, props={"depth_pct": self.rnd.choice((25, 50, 75, 100))})

    def fill(self, form: str, name: str) -> None:
        """Click into a field and type (the input event answers the click)."""
        self._prepare_click()
        clicked = self._click(f"input#{name}")
        self.t = clicked + self.rnd.randint(250, 700)
        self._event("input", self.t, f"input#{name}", props={"form": form, "field": name})
        self.t += self.rnd.randint(1_500, 6_000)

    def submit(
        self,
        form: str,
        button: str,
        to_page: str | None = None,
        error: tuple[str, str] | None = None,
        event: str | None = None,
        props: dict[str, object] | None = None,
    ) -> None:
        """Submit a form: a new page (or DOM change), or a form_error then a DOM change."""
        if to_page and not error:
            self.t = max(self.t, self.viewed_at + MIN_DWELL_MS)
        self._prepare_click()
        clicked = self._click(button)
        self._event("form_submit", clicked + self.rnd.randint(20, 80), button, props={"form": form})
        if error:
            failed = clicked + self.rnd.randint(150, 400)
            self._event("form_error", failed, f"input#{error[0]}", props={"form": form, "error": error[1]})
            self.counts["form_errors"] += 1
            self.friction_at.append(failed)
            self.t = failed + self.rnd.randint(50, 300)
            self._event("dom_change", self.t, "div.form-error")
            return
        if event:
            self._event(event, clicked + self.rnd.randint(100, 200), props=props)
        self.t = clicked + self.rnd.randint(300, 800)
        if to_page:
            self._view(to_page)
        else:
            self._event("dom_change", self.t, button)

    def search(self, query: str) -> None:
        self.fill("search", "search")
        self.press("button#search", "search", {"query": query}, to_page="/search")

    def read(self, article: str) -> None:
        """Open a help article (a help_view)."""
        self.go(f"/help/articles/{article}")
        self.t += self.rnd.randint(400, 1_500)
        self._event("help_view", self.t, props={"article": article})
        self.counts["help_views"] += 1
        self.t += self.rnd.randint(5_000, 40_000)

    def rage(self, target: str) -> None:
        """A rage burst of 3-8 clicks; the page finally answers < 2.5 s after the first click."""
        r = self.rnd
        self._prepare_click()
        n = r.randint(3, 8)
        max_gap = min(400, 1_800 // (n - 1))
        x, y = self._xy(target)
        first = self.t
        for i in range(n):
            if i:
                self.t += r.randint(80, max_gap)
                x, y = x + r.randint(-5, 5), y + r.randint(-5, 5)
            self._event("click", self.t, target, (x, y))
        self.last_click = self.t
        self.counts["rage_click_bursts"] += 1
        self.counts["rage_clicks"] += n
        self.friction_at.append(first)
        self.t += r.randint(100, 400)
        self._event("dom_change", self.t, target)

    def dead_click(self, target: str) -> None:
        """A click nothing answers: the next event of any kind comes 4-9 s later."""
        self._prepare_click()
        self._click(target)
        self.counts["dead_clicks"] += 1
        self.t += self.rnd.randint(4_000, 9_000)

    def double_click(self, target: str) -> None:
        """Decoy: exactly two quick clicks, not a rage burst."""
        self._prepare_click()
        x, y = self._xy(target)
        self._event("click", self.t, target, (x, y))
        self.t += self.rnd.randint(80, 250)
        self._event("click", self.t, target, (x + self.rnd.randint(-2, 2), y + self.rnd.randint(-1, 1)))
        self.last_click = self.t
        self.t += self.rnd.randint(100, 400)
        self._event("dom_change", self.t, target)

    def fast_far_clicks(self) -> None:
        """Decoy: 3-4 quick clicks at least 60 px apart, each answered."""
        r = self.rnd
        self._prepare_click()
        x, y = self._xy("div.filters")
        for i in range(r.randint(3, 4)):
            if i:
                self.t += r.randint(150, 600)
                dx = r.randint(60, 150)
                x = x + dx if x + dx <= self.width - 20 else x - dx
                y += r.randint(-10, 10)
            self._event("click", self.t, "div.filters", (x, y))
            self._event("dom_change", self.t + r.randint(30, 120), "div.filters")
        self.last_click = self.t
        self.t += 150

    def slow_repeat_clicks(self, target: str) -> None:
        """Decoy: 3 clicks on one spot, 1.6-2.4 s apart, each answered."""
        x, y = self._xy(target)
        self._prepare_click()
        for i in range(3):
            if i:
                self.t += self.rnd.randint(1_600, 2_400)
            self._event("click", self.t, target, (x + self.rnd.randint(-2, 2), y))
            self._event("dom_change", self.t + self.rnd.randint(100, 500), target)
        self.last_click = self.t
        self.t += 600

    def quick_back(self) -> None:
        """Open another page and go back to this one within 2-6 s."""
        origin = self.page
        assert origin is not None
        self.nav(self.rnd.choice([p for p in ("/", *PRODUCTS[:3]) if p != origin]))
        self.t = max(self.t + 200, self.viewed_at + self.rnd.randint(2_000, 6_000))
        self._view(origin, props={"navigation": "back"})
        self.counts["quick_backs"] += 1

    def error_click(self, target: str) -> None:
        """A click answered by an error toast, with a telemetry error 150-600 ms later."""
        self._prepare_click()
        clicked = self._click(target)
        name, status, message = self.rnd.choice(JS_ERRORS)
        self._telemetry(clicked + self.rnd.randint(150, 600), "error", name, status, None, message)
        self._event("dom_change", clicked + self.rnd.randint(200, 750), "div.toast-error")
        self.counts["error_clicks"] += 1
        self.counts["errors"] += 1
        self.friction_at.append(clicked)
        self.t = clicked + 800

    def background_error(self) -> None:
        """A telemetry error no click caused (> 1.6 s after the last click)."""
        self.t = max(self.t, self.last_click + CLICK_SPACING_MS) + self.rnd.randint(200, 1_500)
        name, status, message = self.rnd.choice(JS_ERRORS)
        self._telemetry(self.t, "error", name, status, None, message)
        self.counts["errors"] += 1

    def crash(self) -> None:
        """The app crashes; the session ends."""
        self.t = max(self.t + self.rnd.randint(1_000, 5_000), self.last_click + CLICK_SPACING_MS)
        name, message = self.rnd.choice(CRASHES[self.app])
        self._telemetry(self.t, "crash", name, None, None, message)
        self.counts["crashes"] += 1
        self.friction_at.append(self.t)
        self.crashed = True

    def end(self, leave: bool = True) -> None:
        if self.crashed or not leave:
            return
        self.t += self.rnd.randint(2_000, 20_000)
        self._event("page_leave", self.t)


# Friction scenarios: each plants items worth >= 3.0 with the default score weights, so every
# session with planted friction also "had friction" by the session_friction_threshold.


def _login_fail(s: Session, r: random.Random, order: str) -> None:
    s.go("/login")
    s.fill("login", "email")
    s.fill("login", "password")
    s.submit("login", "button#sign-in", error=("password", "Incorrect email or password."))
    s.fill("login", "password")
    s.submit("login", "button#sign-in", error=("password", "Too many attempts. Try again later."))
    if r.random() < 0.5:
        s.rage("button#sign-in")


def _checkout_fail(s: Session, r: random.Random, order: str) -> None:
    s.go("/cart")
    s.press("button#checkout", "checkout_start", to_page="/checkout")
    for name in CARD_FIELDS:
        s.fill("checkout", name)
    s.submit("checkout", "button#pay", error=("card_number", "Your card was declined."))
    s.fill("checkout", "card_number")
    s.submit("checkout", "button#pay", error=("card_number", "Payment could not be processed."))
    if r.random() < 0.6:
        s.rage("button#pay")


def _refund_form(s: Session, r: random.Random, order: str) -> None:
    s.go(f"/orders/{order}")
    s.press("button#return-item", to_page=f"/orders/{order}/return")
    s.fill("return", "reason")
    for _ in range(2):
        s.submit("return", "button#submit-return", error=("reason", "Something went wrong. Please try again."))
    if r.random() < 0.3:
        s.rage("button#submit-return")


def _address_form(s: Session, r: random.Random, order: str) -> None:
    s.go("/account/address")
    s.fill("address", "postcode")
    s.submit("address", "button#save-address", error=("postcode", "We couldn't verify this address."))
    s.fill("address", "street")
    s.submit("address", "button#save-address", error=("postcode", "We couldn't verify this address."))


def _rage_cancel(s: Session, r: random.Random, order: str) -> None:
    s.go("/subscription")
    s.scroll()
    s.rage("button#cancel-subscription")
    if r.random() < 0.4:
        s.scroll()
        s.rage("button#cancel-subscription")


def _rage_invoice(s: Session, r: random.Random, order: str) -> None:
    s.go("/billing")
    s.go("/billing/invoices")
    s.rage("button#download-invoice")


def _rage_save(s: Session, r: random.Random, order: str) -> None:
    s.go("/account/settings")
    s.fill("settings", "display_name")
    s.rage("button#save")


def _slow_site(s: Session, r: random.Random, order: str) -> None:
    for page in ("/", "/orders", f"/orders/{order}", "/account"):
        if page != s.page:
            s.go(page, slow=True)
    if r.random() < 0.3:
        s.rage(f'a[href="/orders/{order}"]')


def _broken_page(s: Session, r: random.Random, order: str) -> None:
    s.go("/account/settings")
    s.error_click("button#save")
    s.scroll()
    s.error_click("button#save")
    s.background_error()
    if r.random() < 0.4:
        s.go("/account", slow=True)


def _crash(s: Session, r: random.Random, order: str) -> None:
    s.go("/orders")
    s.press("a.order-row", to_page=f"/orders/{order}")
    s.crash()


SCENARIOS: dict[str, Callable[[Session, random.Random, str], None]] = {
    "login_fail": _login_fail,
    "checkout_fail": _checkout_fail,
    "refund_form": _refund_form,
    "address_form": _address_form,
    "rage_cancel": _rage_cancel,
    "rage_invoice": _rage_invoice,
    "rage_save": _rage_save,
    "slow_site": _slow_site,
    "broken_page": _broken_page,
    "crash": _crash,
}
TELEMETRY_SCENARIOS = ("slow_site", "broken_page", "crash")


def light_touch(s: Session, r: random.Random) -> None:
    """Decoys and at most one light friction item (a session stays below the friction threshold)."""
    if r.random() < 0.2:
        s.double_click(r.choice(DECOY_TARGETS))
    if r.random() < 0.1:
        s.fast_far_clicks()
    if r.random() < 0.08:
        s.slow_repeat_clicks("button#load-more")
    roll = r.random()
    if roll < 0.12:
        s.dead_click(r.choice(("span.price-info", "div.banner", "img.logo")))
    elif roll < 0.24:
        s.quick_back()


def _flow_browse(s: Session, r: random.Random, order: str) -> None:
    s.enter("/")
    s.scroll()
    for product in r.sample(PRODUCTS, r.randint(1, 3)):
        s.nav(product)
        s.scroll()
        if r.random() < 0.3:
            s.press("button#add-to-cart", "add_to_cart", {"sku": product.rsplit("/", 1)[1]})
    if r.random() < 0.4:
        s.nav("/cart")


def _flow_shop(s: Session, r: random.Random, order: str) -> None:
    s.enter("/")
    s.search(r.choice(SEARCH_QUERIES))
    product = r.choice(PRODUCTS)
    s.nav(product)
    s.press("button#add-to-cart", "add_to_cart", {"sku": product.rsplit("/", 1)[1]})
    s.nav("/cart")
    s.press("button#checkout", "checkout_start", to_page="/checkout")
    for name in CARD_FIELDS:
        s.fill("checkout", name)
    amount = round(r.uniform(9, 300), 2)
    props: dict[str, object] = {"order_id": order, "amount": amount, "currency": "USD"}
    s.submit("checkout", "button#pay", to_page=f"/orders/{order}", event="purchase", props=props)


def _flow_account(s: Session, r: random.Random, order: str) -> None:
    s.enter("/login")
    s.fill("login", "email")
    s.fill("login", "password")
    s.submit("login", "button#sign-in", to_page="/account")
    for page in r.sample(ACCOUNT_PAGES, r.randint(1, 2)):
        s.nav(page)
        s.scroll()


def _flow_orders(s: Session, r: random.Random, order: str) -> None:
    s.enter("/")
    s.nav("/orders")
    s.nav(f"/orders/{order}")
    s.scroll()


def _flow_help(s: Session, r: random.Random, order: str) -> None:
    s.enter("/help")
    for article in r.sample(HELP_ARTICLES, r.randint(1, 2)):
        s.read(article)


FLOWS: tuple[tuple[Callable[[Session, random.Random, str], None], float], ...] = (
    (_flow_browse, 0.35),
    (_flow_shop, 0.2),
    (_flow_account, 0.2),
    (_flow_orders, 0.15),
    (_flow_help, 0.1),
)


@dataclass
class Device:
    """A browser or app install: a customer's own (customer = its index) or an anonymous visitor's (None)."""

    anonymous_id: str
    customer: int | None
    app: str
    sessionless: bool
    busy: list[tuple[int, int]] = field(default_factory=list)

    def free(self, start: int, end: int) -> bool:
        """Whether a session in [start, end] (ms) keeps DEVICE_GAP_MS clear of this device's other sessions."""
        return not overlaps(self.busy, start - DEVICE_GAP_MS, end + DEVICE_GAP_MS)


@dataclass
class PlacedSession:
    """A session placed on the clock (start and end: its first and last event, ms) with its friction counts."""

    session_id: str | None
    device: Device
    customer_id: str | None
    start: int
    end: int
    counts: dict[str, int]
    case: str | None = None  # the friction case it was planted for (friction_cases.CASES)
