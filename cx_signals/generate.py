"""Deterministic synthetic landing data with planted ground truth.

`generate_landing` writes transcripts, telemetry and behavioural events in the landing layout the
pipeline reads, and `_truth/` Parquet files recording what was planted (containment, repeat chains,
escalation requests, PII, session friction) so the pipeline can be checked against known answers.
The same arguments always give byte-identical files.

Friction is planted so that the definitions in `config/defaults.yml` recover it exactly: ordinary
clicks are kept far apart in time, every ordinary click gets a DOM change or page view quickly, and
sessions with friction never straddle the edge of a pre- or post-contact window.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

SECOND = 1_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

DEFAULT_START = date(2026, 10, 1)
BRAND = "Northwind"

# Windows the truth is computed with (config defaults: journeys.pre_contact_window_minutes,
# outcomes.cwq_friction_window_hours).
PRE_CONTACT_MS = 60 * MINUTE
POST_CONTACT_MS = 24 * HOUR
# Guard bands: a session with friction never overlaps a window edge by less than this.
EDGE_GUARD_MS = 5 * MINUTE

CLICK_SPACING_MS = 1_600  # ordinary clicks: > rage gap (1000 ms), so they never chain into a burst
MIN_DWELL_MS = 15_000  # ordinary page dwell: well above the 10 s quick-back threshold
DEVICE_GAP_MS = 45 * MINUTE  # between two sessions of one device: above the 30 min inactivity rule
LATENCY_SAMPLE = 0.08  # share of page views with a RUM latency sample
API_SAMPLE = 0.05  # share of clicks with an api_call sample
WORDS_PER_SECOND = 2.6

ISSUES_PER_CUSTOMER_DAY = 0.1
SESSIONS_PER_CUSTOMER_DAY = 0.15
VISITORS_PER_CUSTOMER = 0.3
BACKGROUND_FRICTION = 0.06
SURVEY_RATE = 0.17
REPEAT_IF_RESOLVED = 0.07
REPEAT_IF_OPEN = 0.6
MAX_CHAIN = 4

APPS = ("web", "ios", "android")
APP_SHARES = (0.55, 0.25, 0.20)
SESSIONLESS_SHARE = 0.16  # of web devices: trackers that send no session_id
NO_CONSENT_SHARE = 0.08

CHANNELS = ("chat", "voice", "email", "messaging", "social")
BOT_CHANNELS = ("chat", "messaging")
ENTRY_QUEUE = {
    "chat": "virtual_assistant",
    "messaging": "virtual_assistant",
    "voice": "ivr_main",
    "email": "email_support",
    "social": "social_care",
}
ABANDON_RATE = {"chat": 0.07, "messaging": 0.09, "voice": 0.10, "email": 0.03, "social": 0.05}
SESSION_AFFINITY = {"chat": 1.0, "messaging": 0.7, "voice": 0.6, "email": 0.6, "social": 0.4}
CONTACT_BUTTON = {
    "chat": "button#start-chat",
    "messaging": "button#message-us",
    "voice": "link#call-us",
    "email": "link#email-us",
}
TRANSFER_TO = {
    "accounts": "fraud_security",
    "billing": "billing_escalations",
    "orders": "logistics",
    "returns": "billing",
    "retention": "billing",
    "tech_support": "tier2_support",
    "payments": "billing",
}
TEAMS = (
    "accounts", "billing", "billing_escalations", "fraud_security", "logistics", "orders", "payments",
    "retention", "returns", "supervisors", "tech_support", "tier2_support",
)  # fmt: skip
# Contacts by UTC hour of day (relative weights).
HOURLY = (1.0, 0.6, 0.4, 0.3, 0.3, 0.4, 0.8, 1.5, 2.5, 3.2, 3.4, 3.3,
          3.1, 3.0, 3.0, 3.1, 3.0, 2.8, 2.6, 2.5, 2.3, 2.0, 1.6, 1.2)  # fmt: skip
# Gaps before a turn on text channels, by speaker: (min, max) ms, log-uniform.
TEXT_GAPS = {
    "chat": {"customer": (6 * SECOND, 60 * SECOND), "bot": (1 * SECOND, 3 * SECOND),
             "agent": (10 * SECOND, 90 * SECOND), "system": (500, 2 * SECOND)},
    "messaging": {"customer": (20 * SECOND, 20 * MINUTE), "bot": (1 * SECOND, 4 * SECOND),
                  "agent": (30 * SECOND, 15 * MINUTE), "system": (500, 2 * SECOND)},
    "email": {"customer": (1 * HOUR, 20 * HOUR), "bot": (30 * SECOND, 3 * MINUTE),
              "agent": (2 * HOUR, 30 * HOUR), "system": (30 * SECOND, 3 * MINUTE)},
    "social": {"customer": (5 * MINUTE, 4 * HOUR), "bot": (30 * SECOND, 3 * MINUTE),
               "agent": (15 * MINUTE, 4 * HOUR), "system": (30 * SECOND, 3 * MINUTE)},
}  # fmt: skip


@dataclass(frozen=True)
class Intent:
    """A contact reason: how customers reach out about it and how it tends to go."""

    name: str
    share: float
    channels: dict[str, float]
    team: str
    bot_contain: float  # P(bot alone handles it) on chat/messaging
    resolve: float  # P(resolved) once an agent handles it
    exchanges: tuple[int, int]  # agent/customer exchanges, min and max
    transfer: float
    hold: float  # P(hold) on voice
    web_session: float  # P(web/app session just before the contact), scaled by channel
    friction: float  # P(that session had planted friction)
    scenario: str  # friction planted before contacts about this intent
    pages: tuple[str, ...]
    article: str
    uses_order: bool
    ivr: str  # what the caller tells the IVR
    requests: tuple[str, ...]
    details: tuple[str, ...]
    bot_fix: str
    agent_fix: tuple[str, ...]


INTENTS: tuple[Intent, ...] = (
    Intent(
        name="password_reset",
        share=0.12,
        channels={"chat": 0.45, "messaging": 0.2, "voice": 0.15, "email": 0.15, "social": 0.05},
        team="accounts",
        bot_contain=0.78,
        resolve=0.9,
        exchanges=(2, 3),
        transfer=0.03,
        hold=0.15,
        web_session=0.6,
        friction=0.5,
        scenario="login_fail",
        pages=("/login",),
        article="reset-password",
        uses_order=False,
        ivr="Password reset.",
        requests=(
            "I can't log in, I forgot my password.",
            "How do I reset my password?",
            "The password reset email never arrived.",
            "My reset link says it has expired.",
        ),
        details=(
            "I checked my spam folder and there's nothing there.",
            "I'm using the app on my {device}.",
            "The link opens a blank page for me.",
        ),
        bot_fix="I've sent a new reset link to the email on your account. It's valid for 30 minutes.",
        agent_fix=(
            "I've reset it on my side and sent a fresh link, it should arrive in a minute.",
            "I've cleared the old links, please use the new email I just sent.",
        ),
    ),
    Intent(
        name="account_locked",
        share=0.07,
        channels={"chat": 0.35, "voice": 0.35, "email": 0.15, "messaging": 0.1, "social": 0.05},
        team="accounts",
        bot_contain=0.3,
        resolve=0.8,
        exchanges=(2, 4),
        transfer=0.1,
        hold=0.3,
        web_session=0.55,
        friction=0.6,
        scenario="login_fail",
        pages=("/login",),
        article="account-locked",
        uses_order=False,
        ivr="Locked account.",
        requests=(
            "My account is locked after too many login attempts.",
            "It says my account has been suspended for security reasons.",
            "I'm locked out of my account and need access today.",
        ),
        details=(
            "I tried logging in from my {device} this morning.",
            "I didn't get any security email from you.",
            "I need to pay a bill today so this is urgent.",
        ),
        bot_fix="For your security I've sent an unlock code by text message. Enter it on the login page.",
        agent_fix=("I've verified your identity and unlocked the account. Please set a new password.",),
    ),
    Intent(
        name="billing_dispute",
        share=0.1,
        channels={"voice": 0.55, "email": 0.2, "chat": 0.15, "messaging": 0.05, "social": 0.05},
        team="billing",
        bot_contain=0.05,
        resolve=0.55,
        exchanges=(4, 8),
        transfer=0.35,
        hold=0.6,
        web_session=0.35,
        friction=0.3,
        scenario="rage_invoice",
        pages=("/billing", "/billing/invoices"),
        article="understanding-your-bill",
        uses_order=False,
        ivr="Billing problem.",
        requests=(
            "I was charged {amount} twice this month.",
            "There's a charge of {amount} on my bill I don't recognise.",
            "My invoice is higher than my plan, I was billed {amount}.",
            "You charged me after I cancelled.",
        ),
        details=(
            "The charge is dated last Tuesday.",
            "My plan should be much cheaper than that.",
            "I can't download the invoice to check it.",
        ),
        bot_fix="Here's a breakdown of your latest bill. Charges usually appear within 3 working days.",
        agent_fix=(
            "I've reversed the duplicate charge, you'll see {amount} back within 5 working days.",
            "I've applied a credit of {amount} to your next bill.",
        ),
    ),
    Intent(
        name="delivery_status",
        share=0.16,
        channels={"chat": 0.4, "messaging": 0.25, "voice": 0.15, "email": 0.1, "social": 0.1},
        team="orders",
        bot_contain=0.7,
        resolve=0.85,
        exchanges=(2, 4),
        transfer=0.05,
        hold=0.2,
        web_session=0.5,
        friction=0.25,
        scenario="slow_site",
        pages=("/orders", "/orders/{order}"),
        article="track-your-order",
        uses_order=True,
        ivr="Delivery status.",
        requests=(
            "Where is my order {order}?",
            "My package was supposed to arrive yesterday.",
            "Tracking for order {order} hasn't updated in four days.",
            "Can you tell me when order {order} will be delivered?",
        ),
        details=(
            "The tracking page just says in transit.",
            "I paid for express delivery.",
            "Nobody left a card or a note at the door.",
        ),
        bot_fix="Your order {order} is with the courier and due tomorrow before 6 pm.",
        agent_fix=(
            "The courier had a delay at the depot, order {order} will arrive tomorrow.",
            "I've asked the courier to prioritise it and refunded the express fee of {amount}.",
        ),
    ),
    Intent(
        name="refund_request",
        share=0.11,
        channels={"chat": 0.35, "email": 0.25, "voice": 0.25, "messaging": 0.1, "social": 0.05},
        team="returns",
        bot_contain=0.25,
        resolve=0.65,
        exchanges=(3, 5),
        transfer=0.12,
        hold=0.35,
        web_session=0.45,
        friction=0.4,
        scenario="refund_form",
        pages=("/orders", "/orders/{order}"),
        article="refunds-and-returns",
        uses_order=True,
        ivr="Refund.",
        requests=(
            "I returned order {order} two weeks ago and still have no refund.",
            "I'd like a refund of {amount} for a damaged item.",
            "How long does a refund take? It's been ten days.",
        ),
        details=(
            "The courier confirmed the return was delivered.",
            "The item arrived broken in the box.",
            "The returns form gives me an error.",
        ),
        bot_fix="Refunds are issued within 5 days of the return arriving at our warehouse.",
        agent_fix=("I've issued the refund of {amount} today, it takes 3 to 5 working days to show.",),
    ),
    Intent(
        name="cancel_subscription",
        share=0.08,
        channels={"voice": 0.45, "chat": 0.35, "email": 0.15, "messaging": 0.05},
        team="retention",
        bot_contain=0.15,
        resolve=0.75,
        exchanges=(3, 6),
        transfer=0.2,
        hold=0.4,
        web_session=0.45,
        friction=0.35,
        scenario="rage_cancel",
        pages=("/account", "/subscription"),
        article="cancel-subscription",
        uses_order=False,
        ivr="Cancel subscription.",
        requests=(
            "I want to cancel my subscription.",
            "Please close my account and stop the monthly payments.",
            "How do I cancel? I can't find the button anywhere.",
        ),
        details=(
            "I'm moving abroad next month.",
            "It's too expensive for what I use.",
            "The cancel button on the website does nothing.",
        ),
        bot_fix="You can cancel under Account, Subscription. Your plan stays active until the end of the period.",
        agent_fix=(
            "I've cancelled the subscription, you won't be charged again.",
            "Done, your subscription ends on the last day of this billing period.",
        ),
    ),
    Intent(
        name="app_crash",
        share=0.07,
        channels={"chat": 0.3, "email": 0.3, "social": 0.15, "messaging": 0.1, "voice": 0.15},
        team="tech_support",
        bot_contain=0.3,
        resolve=0.5,
        exchanges=(3, 5),
        transfer=0.15,
        hold=0.2,
        web_session=0.55,
        friction=0.7,
        scenario="crash",
        pages=("/account", "/orders"),
        article="app-troubleshooting",
        uses_order=False,
        ivr="App crashing.",
        requests=(
            "The app keeps crashing when I open my account.",
            "Your app closes as soon as I tap on orders.",
            "Since the last update the app crashes on my {device}.",
        ),
        details=(
            "I already reinstalled it twice.",
            "It worked fine last week.",
            "I'm on the latest version.",
        ),
        bot_fix="Please update to the latest version and restart your phone. That fixes most crashes.",
        agent_fix=("Our developers found the bug, a fix ships tomorrow. Until then the website works.",),
    ),
    Intent(
        name="payment_failed",
        share=0.12,
        channels={"chat": 0.4, "voice": 0.3, "messaging": 0.15, "email": 0.1, "social": 0.05},
        team="payments",
        bot_contain=0.35,
        resolve=0.6,
        exchanges=(3, 5),
        transfer=0.15,
        hold=0.35,
        web_session=0.65,
        friction=0.75,
        scenario="checkout_fail",
        pages=("/cart",),
        article="update-payment-method",
        uses_order=True,
        ivr="Payment failed.",
        requests=(
            "My payment keeps failing at checkout.",
            "I tried to pay {amount} and it says the card was declined.",
            "Checkout gives me an error every time I press pay.",
        ),
        details=(
            "My bank says there's no problem with the card.",
            "I tried two different cards.",
            "The basket comes to {amount}.",
        ),
        bot_fix="Payments can fail when the billing address doesn't match the card. Please check it and try again.",
        agent_fix=(
            "There was a fraud check on our side, I've cleared it. Please try the payment again now.",
            "I've placed the order for you by phone, order {order} is confirmed.",
        ),
    ),
    Intent(
        name="change_address",
        share=0.09,
        channels={"chat": 0.45, "messaging": 0.25, "email": 0.15, "voice": 0.15},
        team="orders",
        bot_contain=0.65,
        resolve=0.9,
        exchanges=(2, 3),
        transfer=0.05,
        hold=0.2,
        web_session=0.45,
        friction=0.25,
        scenario="address_form",
        pages=("/account", "/account/address"),
        article="change-delivery-address",
        uses_order=True,
        ivr="Change of address.",
        requests=(
            "I need to change the delivery address for order {order}.",
            "I moved, how do I update my address?",
            "Can you send order {order} to my work address instead?",
        ),
        details=(
            "The new address is in the same city.",
            "The address form won't accept my postcode.",
            "The order hasn't shipped yet.",
        ),
        bot_fix="You can change the address under Account, Addresses until the order ships.",
        agent_fix=("I've updated the delivery address on order {order}.",),
    ),
    Intent(
        name="technical_issue",
        share=0.08,
        channels={"chat": 0.35, "voice": 0.3, "email": 0.25, "social": 0.1},
        team="tech_support",
        bot_contain=0.2,
        resolve=0.55,
        exchanges=(3, 6),
        transfer=0.15,
        hold=0.3,
        web_session=0.55,
        friction=0.6,
        scenario="broken_page",
        pages=("/account", "/account/settings"),
        article="troubleshooting",
        uses_order=False,
        ivr="Technical problem.",
        requests=(
            "The website shows an error when I open my account page.",
            "Pages keep loading forever and then fail.",
            "Nothing happens when I press save in my settings.",
        ),
        details=(
            "I tried another browser as well.",
            "It started on Monday.",
            "The error mentions a server problem.",
        ),
        bot_fix="Please clear your browser cache and try again. If it persists we'll look into it.",
        agent_fix=("We had an outage on the account service, it's fixed now. Please try again.",),
    ),
)

BOT_GREETINGS = (
    f"Hi! I'm Nova, {BRAND}'s virtual assistant. How can I help today?",
    f"Hello, you're chatting with Nova, the {BRAND} assistant. What can I do for you?",
)
BOT_CLARIFY = (
    "Thanks. Could you tell me a bit more?",
    "I can help with that. Can you give me some more detail?",
    "Got it. What exactly is going wrong?",
)
BOT_REPHRASE = "Sorry, I didn't quite get that. Could you put it another way?"
BOT_HANDOFF = ("Let me connect you with a member of our team.", "I'll pass you to one of our agents now.")
BOT_BYE_OK = "Glad I could help. Have a great day!"
BOT_BYE_FAIL = "Sorry I couldn't sort that out. You can reach us any time."
SYSTEM_QUEUE = "You're in the queue. An agent will be with you shortly."
SYSTEM_TRANSFER = "You're being transferred to the {team} team."
IVR_GREETING = f"Welcome to {BRAND}. In a few words, tell me why you're calling."
IVR_HANDOFF = "Thanks. Let me find someone to help you with that."
IVR_BYE = "Thanks for calling. Goodbye."
EMAIL_ACK = "Thanks for your email. Your reference is {ref}. We'll reply within 24 hours."
SOCIAL_REPLY = "Sorry to hear that! Please send us a DM and we'll look into it."
AGENT_GREETINGS = (
    "Hi, I'm {name}. Thanks for waiting, I'm looking into this now.",
    "Hello, this is {name}. Sorry for the trouble, let me check your account.",
    "Hi there, {name} here. I'll help you with this today.",
)
AGENT_TRANSFER_GREETING = "Hi, this is {name} from the {team} team. I've read the notes."
AGENT_CHECKS = (
    "Let me check what happened on our side.",
    "I can see your account here.",
    "Thanks, one moment while I look at the history.",
    "I'm checking with the system now.",
    "Okay, I can see the last few transactions.",
    "I can see what went wrong there.",
    "Right, I'm updating the case now.",
    "I'm adding a note to your account.",
)
AGENT_RECAP = "Sorry, could you explain the problem once more?"
AGENT_HOLD = ("Let me look into that. Can I put you on a short hold?", "I need to check with a colleague, please hold.")
AGENT_HOLD_BACK = ("Thanks for holding.", "Thank you for your patience.")
AGENT_TRANSFER = "I'm going to transfer you to our {team} team, they can help with this."
AGENT_ESCALATION_REPLY = "I understand. Let me see what I can do right now."
AGENT_UNRESOLVED = (
    "I'm sorry, I can't fix this today. I've raised a ticket and we'll update you.",
    "I've passed this to the specialist team, they'll get back to you within 48 hours.",
)
AGENT_STILL_THERE = "Are you still there?"
AGENT_BYE = f"Thanks for contacting {BRAND}. Have a good day."
ORDER_ASK = "Could you give me the order number?"
ORDER_ANSWER = "It's order {order}."
LAST4_ASK = "For security, can you confirm the last four digits of the card on file?"
LAST4_ANSWER = "They're {last4}."

CUSTOMER_ACKS = (
    "Okay.",
    "Sure, go ahead.",
    "Yes, that's right.",
    "Alright, I'm here.",
    "Fine.",
    "No problem.",
    "Yep, still waiting.",
    "Understood.",
)
REPEAT_OPENERS = (
    "This is the second time I'm contacting you about this.",
    "I already contacted you about this and nothing happened.",
    "I'm getting in touch again because this still isn't fixed.",
)
FRUSTRATION = (
    "This is really frustrating.",
    "Honestly, this is terrible service.",
    "I'm so annoyed right now.",
    "This is ridiculous, I've wasted an hour on this.",
)
CUSTOMER_THANKS = (
    "Great, that worked. Thank you so much!",
    "Perfect, thanks for your help.",
    "Brilliant, all sorted now, thanks!",
)
CUSTOMER_UNHAPPY = (
    "That doesn't help at all.",
    "So nothing is fixed. Unbelievable.",
    "Useless. I'll have to contact you again.",
)
CUSTOMER_WAITING = "Okay, I'll wait for the update then."
# Every one matches a conversation.escalation_patterns regex; no other customer text does.
ESCALATION_REQUESTS = (
    "I want to speak to a human.",
    "Can I talk to a real person, please?",
    "Get me your manager.",
    "I want to file a complaint.",
    "Let me speak to a supervisor.",
    "I'd like to chat with an agent, please.",
)
PII_KINDS = ("email", "phone", "card", "iban")
PII_ASK = {
    "email": "Can you confirm the email address on your account?",
    "phone": "What's the best number to reach you on?",
    "card": "Which card did you use for the payment?",
    "iban": "Where should we send the money back to?",
}
PII_ANSWER = {
    "email": ("Sure, it's {v}.", "It's {v}"),
    "phone": ("You can reach me on {v}.", "My number is {v}."),
    "card": ("It was my card {v}.", "The card number is {v}."),
    "iban": ("Please send it to my IBAN {v}.", "My IBAN is {v}."),
}
EMAIL_SENTENCE = {
    "email": "My email is {v}.",
    "phone": "Please call me on {v}.",
    "card": "The card I used is {v}.",
    "iban": "Please refund to {v}.",
}
FIRST_NAMES = ("jane", "alex", "maria", "tom", "li", "sara", "omar", "nina", "ravi", "emma")
LAST_NAMES = ("doe", "smith", "garcia", "nguyen", "kowalski", "brown", "okafor", "jensen")
EMAIL_DOMAINS = ("example.com", "example.org", "mail.example.net")
DEVICES = ("iPhone 15", "Pixel 8", "Galaxy S23", "iPad", "laptop")
AGENT_NAMES = ("Sam", "Priya", "Jonas", "Maria", "Tom", "Aisha", "Lena", "Diego", "Chloe", "Marcus", "Yuki", "Omar")

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


def _loguniform(r: random.Random, lo: float, hi: float) -> int:
    return int(math.exp(r.uniform(math.log(lo), math.log(hi))))


def _iso(ms: int) -> str:
    seconds, millis = divmod(ms, SECOND)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def _lower_first(text: str) -> str:
    return text if text.startswith(("I ", "I'")) else text[0].lower() + text[1:]


def _luhn_check_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def _digits(r: random.Random, n: int) -> str:
    return "".join(str(r.randrange(10)) for _ in range(n))


def _groups(text: str, sep: str = " ") -> str:
    return sep.join(text[i : i + 4] for i in range(0, len(text), 4))


def _card(r: random.Random) -> str:
    body = "4" + _digits(r, 14) if r.random() < 0.6 else "5" + str(r.randint(1, 5)) + _digits(r, 13)
    number = body + _luhn_check_digit(body)
    style = r.random()
    return number if style < 0.3 else _groups(number, "-" if style < 0.45 else " ")


def _iban(r: random.Random) -> str:
    country = r.choice(("GB", "GB", "DE", "NL"))
    if country == "GB":
        bban = r.choice(("WEST", "NWBK", "BARC", "LOYD")) + _digits(r, 14)
    elif country == "DE":
        bban = _digits(r, 18)
    else:
        bban = r.choice(("ABNA", "INGB", "RABO")) + _digits(r, 10)
    check = 98 - int("".join(str(int(ch, 36)) for ch in bban + country + "00")) % 97
    iban = f"{country}{check:02d}{bban}"
    return _groups(iban) if r.random() < 0.5 else iban


def _phone(r: random.Random) -> str:
    # Ofcom drama range (020 7946 0xxx) and US 555-01xx: reserved for fiction, never real numbers.
    style = r.randrange(4)
    if style == 0:
        return f"+44 20 7946 0{r.randint(0, 999):03d}"
    if style == 1:
        return f"020 7946 0{r.randint(0, 999):03d}"
    area = r.choice(("415", "212", "646", "312"))
    if style == 2:
        return f"({area}) 555-01{r.randint(0, 99):02d}"
    return f"+1 {area} 555 01{r.randint(0, 99):02d}"


def _pii_value(r: random.Random, kind: str) -> str:
    if kind == "email":
        return f"{r.choice(FIRST_NAMES)}.{r.choice(LAST_NAMES)}{r.randint(1, 99)}@{r.choice(EMAIL_DOMAINS)}"
    if kind == "phone":
        return _phone(r)
    if kind == "card":
        return _card(r)
    return _iban(r)


def _order_number(r: random.Random) -> str:
    return f"{r.randint(1000, 9999)}-{r.randint(1000, 9999)}"


def _amount(r: random.Random) -> str:
    return f"{r.choice('$$£€')}{r.randint(5, 300)}.{r.randrange(100):02d}"


_MASK64 = (1 << 64) - 1


def _mix64(x: int) -> int:
    """SplitMix64's finaliser: a bijection of 64-bit integers that looks random."""
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def _overlaps(bands: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(start <= hi and lo <= end for lo, hi in bands)


# --------------------------------------------------------------------------- web/app sessions


class _Session:
    """One web/app session built on a relative clock (ms from its first event)."""

    def __init__(self, rnd: random.Random, app: str, telemetry_friction: bool) -> None:
        self.rnd = rnd
        self.app = app
        self.telemetry_friction = telemetry_friction
        self.width, self.height = (1440, 2600) if app == "web" else (390, 1500)
        self.events: list[tuple[int, str, str | None, str | None, int | None, int | None, str | None]] = []
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
    ) -> None:
        x, y = xy if xy else (None, None)
        payload = json.dumps(props, separators=(",", ":"), sort_keys=True) if props else None
        self.events.append((t, event_type, self.page, target, x, y, payload))

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


def _login_fail(s: _Session, r: random.Random, order: str) -> None:
    s.go("/login")
    s.fill("login", "email")
    s.fill("login", "password")
    s.submit("login", "button#sign-in", error=("password", "Incorrect email or password."))
    s.fill("login", "password")
    s.submit("login", "button#sign-in", error=("password", "Too many attempts. Try again later."))
    if r.random() < 0.5:
        s.rage("button#sign-in")


def _checkout_fail(s: _Session, r: random.Random, order: str) -> None:
    s.go("/cart")
    s.press("button#checkout", "checkout_start", to_page="/checkout")
    for name in CARD_FIELDS:
        s.fill("checkout", name)
    s.submit("checkout", "button#pay", error=("card_number", "Your card was declined."))
    s.fill("checkout", "card_number")
    s.submit("checkout", "button#pay", error=("card_number", "Payment could not be processed."))
    if r.random() < 0.6:
        s.rage("button#pay")


def _refund_form(s: _Session, r: random.Random, order: str) -> None:
    s.go(f"/orders/{order}")
    s.press("button#return-item", to_page=f"/orders/{order}/return")
    s.fill("return", "reason")
    for _ in range(2):
        s.submit("return", "button#submit-return", error=("reason", "Something went wrong. Please try again."))
    if r.random() < 0.3:
        s.rage("button#submit-return")


def _address_form(s: _Session, r: random.Random, order: str) -> None:
    s.go("/account/address")
    s.fill("address", "postcode")
    s.submit("address", "button#save-address", error=("postcode", "We couldn't verify this address."))
    s.fill("address", "street")
    s.submit("address", "button#save-address", error=("postcode", "We couldn't verify this address."))


def _rage_cancel(s: _Session, r: random.Random, order: str) -> None:
    s.go("/subscription")
    s.scroll()
    s.rage("button#cancel-subscription")
    if r.random() < 0.4:
        s.scroll()
        s.rage("button#cancel-subscription")


def _rage_invoice(s: _Session, r: random.Random, order: str) -> None:
    s.go("/billing")
    s.go("/billing/invoices")
    s.rage("button#download-invoice")


def _rage_save(s: _Session, r: random.Random, order: str) -> None:
    s.go("/account/settings")
    s.fill("settings", "display_name")
    s.rage("button#save")


def _slow_site(s: _Session, r: random.Random, order: str) -> None:
    for page in ("/", "/orders", f"/orders/{order}", "/account"):
        if page != s.page:
            s.go(page, slow=True)
    if r.random() < 0.3:
        s.rage(f'a[href="/orders/{order}"]')


def _broken_page(s: _Session, r: random.Random, order: str) -> None:
    s.go("/account/settings")
    s.error_click("button#save")
    s.scroll()
    s.error_click("button#save")
    s.background_error()
    if r.random() < 0.4:
        s.go("/account", slow=True)


def _crash(s: _Session, r: random.Random, order: str) -> None:
    s.go("/orders")
    s.press("a.order-row", to_page=f"/orders/{order}")
    s.crash()


SCENARIOS: dict[str, Callable[[_Session, random.Random, str], None]] = {
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


def _light_touch(s: _Session, r: random.Random) -> None:
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


def _flow_browse(s: _Session, r: random.Random, order: str) -> None:
    s.enter("/")
    s.scroll()
    for product in r.sample(PRODUCTS, r.randint(1, 3)):
        s.nav(product)
        s.scroll()
        if r.random() < 0.3:
            s.press("button#add-to-cart", "add_to_cart", {"sku": product.rsplit("/", 1)[1]})
    if r.random() < 0.4:
        s.nav("/cart")


def _flow_shop(s: _Session, r: random.Random, order: str) -> None:
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


def _flow_account(s: _Session, r: random.Random, order: str) -> None:
    s.enter("/login")
    s.fill("login", "email")
    s.fill("login", "password")
    s.submit("login", "button#sign-in", to_page="/account")
    for page in r.sample(ACCOUNT_PAGES, r.randint(1, 2)):
        s.nav(page)
        s.scroll()


def _flow_orders(s: _Session, r: random.Random, order: str) -> None:
    s.enter("/")
    s.nav("/orders")
    s.nav(f"/orders/{order}")
    s.scroll()


def _flow_help(s: _Session, r: random.Random, order: str) -> None:
    s.enter("/help")
    for article in r.sample(HELP_ARTICLES, r.randint(1, 2)):
        s.read(article)


FLOWS: tuple[tuple[Callable[[_Session, random.Random, str], None], float], ...] = (
    (_flow_browse, 0.35),
    (_flow_shop, 0.2),
    (_flow_account, 0.2),
    (_flow_orders, 0.15),
    (_flow_help, 0.1),
)


# --------------------------------------------------------------------------- conversations


class _Talk:
    """One conversation's turns and in-conversation events on one clock (ms since the epoch)."""

    def __init__(self, rnd: random.Random, channel: str, start: int) -> None:
        self.rnd = rnd
        self.channel = channel
        self.t = start
        self.turns: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.hold_ms = 0
        self._after_event = True

    def say(self, speaker: str, text: str, agent: str | None = None) -> str:
        r = self.rnd
        if not self.turns:
            ts = self.t
        elif self.channel == "voice":
            ts = self._voice_start(speaker)
        else:
            ts = self.t + _loguniform(r, *TEXT_GAPS[self.channel][speaker])
        end = None
        if self.channel == "voice":
            end = ts + int(len(text.split()) * SECOND / WORDS_PER_SECOND) + r.randint(200, 900)
            self.t = max(self.t, end)
        else:
            self.t = ts
        turn_id = f"t{len(self.turns) + 1:03d}"
        self.turns.append(
            {"turn_id": turn_id, "speaker": speaker, "agent_id": agent, "ts": ts, "end_ts": end, "text": text}
        )
        self._after_event = False
        return turn_id

    def _voice_start(self, speaker: str) -> int:
        r = self.rnd
        prev = self.turns[-1]
        prev_len = prev["end_ts"] - prev["ts"]
        roll = r.random()
        if (
            roll < 0.06
            and not self._after_event
            and speaker != prev["speaker"]
            and prev_len > 2_500
            and prev["end_ts"] == self.t
        ):
            return self.t - r.randint(300, min(1_500, prev_len - 1_000))  # interruption
        if roll < 0.14:
            return self.t + r.randint(4_000, 12_000)  # silence
        return self.t + r.randint(250, 1_800)

    def event(self, event_type: str, agent: str | None = None, queue: str | None = None) -> int:
        ts = self.t + self.rnd.randint(500, 1_500)
        self.events.append({"event_type": event_type, "ts": ts, "agent_id": agent, "queue": queue})
        self.t = ts
        self._after_event = True
        return ts

    def wait(self, lo: int, hi: int) -> None:
        self.t += _loguniform(self.rnd, lo, hi)
        self._after_event = True

    def hold(self, agent: str) -> None:
        start = self.event("hold_start", agent)
        end = start + _loguniform(self.rnd, 30 * SECOND, 7 * MINUTE)
        self.events.append({"event_type": "hold_end", "ts": end, "agent_id": agent, "queue": None})
        self.hold_ms += end - start
        self.t = end


@dataclass
class _Conv:
    customer: int
    intent: Intent
    channel: str
    position: int
    start: int
    web_session: bool
    friction: bool
    frustrated: bool
    escalate: bool
    repetition: bool  # planned; restated records whether it was said
    contained: bool
    outcome: str
    order: str
    amount: str
    device: str
    request: str = ""
    end: int = 0
    disposition: str | None = None
    turns: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    hold_ms: int = 0
    pii: list[tuple[str, str, str]] = field(default_factory=list)
    pii_kinds: tuple[str, ...] = ()
    csat: int | None = None
    serial: int = 0  # planning order over all shards; the spool's stand-in for the id
    restated: bool = False
    pre_friction: bool = False
    post_friction: bool = False


@dataclass
class _Device:
    anonymous_id: str
    customer: int | None
    app: str
    sessionless: bool
    busy: list[tuple[int, int]] = field(default_factory=list)

    def free(self, start: int, end: int) -> bool:
        return not _overlaps(self.busy, start - DEVICE_GAP_MS, end + DEVICE_GAP_MS)


@dataclass
class _PlacedSession:
    session_id: str | None
    device: _Device
    customer_id: str | None
    start: int
    end: int
    counts: dict[str, int]


class _World:
    """Plans customers, contacts and sessions one shard of customers at a time.

    Everything a shard plans stays in memory only until `spill` hands it to a `_Spool`; what lives for the
    whole run is per customer (ids, activity, consent, device) or per conversation (start and customer, for
    numbering), never per event.
    """

    def __init__(self, days: int, customers: int, seed: int, start: date, repeat_window_days: int) -> None:
        self.rnd = random.Random(seed)
        self.nprng = np.random.default_rng(seed)
        self.days = days
        self.repeat_ms = repeat_window_days * DAY
        self.t0 = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp()) * SECOND
        self.t1 = self.t0 + days * DAY
        self.used_anonymous_ids: set[str] = set()
        self.id_key = self.rnd.getrandbits(64)
        self.ids_issued = 0
        self.customer_ids = [f"C{i:06d}" for i in range(1, customers + 1)]
        self.activity = self.nprng.gamma(2.0, 0.5, customers)
        self.consent = (self.nprng.random(customers) >= NO_CONSENT_SHARE).tolist()
        self.apps = self.nprng.choice(len(APPS), size=customers, p=APP_SHARES)
        self.sessionless = (self.apps == 0) & (self.nprng.random(customers) < SESSIONLESS_SHARE)
        if customers and not self.sessionless.any() and (self.apps == 0).any():
            self.sessionless[int(np.argmax(self.apps == 0))] = True
        self.anonymous_ids = [self._anonymous_id() for _ in range(customers)]
        pool = max(4, customers // 150)
        self.agents = {team: [f"agt-{i * 100 + k + 1:04d}" for k in range(pool)] for i, team in enumerate(TEAMS)}
        self.issue_counts = self.nprng.poisson(self.activity * ISSUES_PER_CUSTOMER_DAY * days)
        self.session_counts = self.nprng.poisson(self.activity * SESSIONS_PER_CUSTOMER_DAY * days)
        # Midnight sessions still to place: one with a session_id, one without (only when day 2 exists).
        self.midnight_pending = [False, True] if days >= 2 else []
        # Per conversation, in planning order: its start (ms) and customer; they decide its number.
        self.conv_starts: list[int] = []
        self.conv_customers: list[int] = []
        self._clear_shard()

    def _clear_shard(self) -> None:
        self.devices: list[_Device] = []
        self.chains: list[list[_Conv]] = []
        self.sessions: list[_PlacedSession] = []
        self.event_rows: list[tuple[int, str, str | None, str, str | None, str, str | None, str | None,
                                    int | None, int | None, str | None]] = []  # fmt: skip
        self.telemetry_rows: list[tuple[int, str | None, str | None, str | None, str, str, str,
                                        int | None, float | None, str | None]] = []  # fmt: skip
        self.friction_at: dict[int, list[int]] = {}

    def _anonymous_id(self) -> str:
        while True:
            candidate = f"anon-{self.rnd.getrandbits(48):012x}"
            if candidate not in self.used_anonymous_ids:
                self.used_anonymous_ids.add(candidate)
                return candidate

    def _serial_id(self, prefix: str) -> str:
        """A random-looking 64-bit id, unique by construction (a bijection of a counter), so no set of ids is kept."""
        self.ids_issued += 1
        return f"{prefix}{_mix64(self.ids_issued ^ self.id_key):016x}"

    def _random_time(self) -> int:
        day = self.rnd.randrange(self.days)
        hour = self.rnd.choices(range(24), HOURLY)[0]
        return self.t0 + day * DAY + hour * HOUR + self.rnd.randrange(HOUR)

    # ----------------------------------------------------------------- contacts

    def plan_shard(self, lo: int, hi: int) -> None:
        """Plan customers lo..hi-1 (0-based) with their contacts and sessions, their share of anonymous
        visitors, a pending midnight session if one of them can take it, and their apps' background syncs."""
        self.devices = [
            _Device(self.anonymous_ids[c], c, APPS[int(self.apps[c])], bool(self.sessionless[c])) for c in range(lo, hi)
        ]
        for device in self.devices:
            c = device.customer
            assert c is not None
            convs = self._customer_contacts(c, device, int(self.issue_counts[c]))
            self._customer_sessions(device, convs, int(self.session_counts[c]))
        for _ in range(round(hi * VISITORS_PER_CUSTOMER) - round(lo * VISITORS_PER_CUSTOMER)):
            app = self.rnd.choices(APPS, (0.8, 0.1, 0.1))[0]
            visitor = _Device(self._anonymous_id(), None, app, app == "web" and self.rnd.random() < 0.12)
            for _ in range(self.rnd.choice((1, 1, 1, 2, 3))):
                self._background_session(visitor, [])
        self._midnight_sessions()
        self._background_telemetry()

    def _intent_weights(self, app: str) -> list[float]:
        crash_factor = 0.3 if app == "web" else 3.0
        return [i.share * (crash_factor if i.name == "app_crash" else 1.0) for i in INTENTS]

    def _customer_contacts(self, c: int, device: _Device, n_issues: int) -> list[_Conv]:
        weights = self._intent_weights(device.app)
        last_end: dict[str, int] = {}
        convs: list[_Conv] = []
        for start in sorted(self._random_time() for _ in range(n_issues)):
            for _ in range(3):
                intent = self.rnd.choices(INTENTS, weights)[0]
                # Separate issues on one intent by more than R days, so repeat chains never merge.
                if start > last_end.get(intent.name, -DAY * 10_000) + self.repeat_ms + DAY:
                    chain = self._chain(c, intent, start)
                    last_end[intent.name] = chain[-1].end
                    convs.extend(chain)
                    break
        return sorted(convs, key=lambda conv: conv.start)

    def _chain(self, c: int, intent: Intent, start: int) -> list[_Conv]:
        r = self.rnd
        chain: list[_Conv] = []
        channel = ""
        for position in range(1, MAX_CHAIN + 1):
            if not channel or r.random() > 0.55:
                channel = r.choices(list(intent.channels), list(intent.channels.values()))[0]
            conv = self._conversation(c, intent, channel, position, start)
            chain.append(conv)
            repeat_p = REPEAT_IF_RESOLVED if conv.disposition == "resolved" else REPEAT_IF_OPEN
            if r.random() >= repeat_p:
                break
            start = conv.end + _loguniform(r, 20 * MINUTE, 0.75 * self.repeat_ms)
            if start >= self.t1:
                break
        self.chains.append(chain)
        self._csat(chain)
        return chain

    def _conversation(self, c: int, intent: Intent, channel: str, position: int, start: int) -> _Conv:
        r = self.rnd
        web_session = r.random() < intent.web_session * SESSION_AFFINITY[channel]
        friction = web_session and r.random() < intent.friction
        frustrated = friction or (position > 1 and r.random() < 0.6) or r.random() < 0.08
        escalate = r.random() < (
            0.04 + 0.12 * frustrated + 0.08 * (position > 1) + 0.08 * (intent.name == "billing_dispute")
        )
        if channel in BOT_CHANNELS:
            contained = not escalate and r.random() < intent.bot_contain * (0.6 if position > 1 else 1.0)
        elif channel == "voice":
            contained = not escalate and r.random() < intent.bot_contain * 0.25
        else:
            contained = False
        if r.random() < ABANDON_RATE[channel]:
            outcome = "abandoned"
        else:
            p_resolved = 0.8 if contained else intent.resolve + 0.1 * (position > 1) - 0.1 * frustrated
            outcome = "resolved" if r.random() < p_resolved else "unresolved"
        repetition = channel in (*BOT_CHANNELS, "voice") and not (channel == "voice" and contained)
        conv = _Conv(
            customer=c,
            intent=intent,
            channel=channel,
            position=position,
            start=start,
            web_session=web_session,
            friction=friction,
            frustrated=frustrated,
            escalate=escalate,
            repetition=repetition and r.random() < (0.2 if frustrated else 0.08),
            contained=contained,
            outcome=outcome,
            order=_order_number(r),
            amount=_amount(r),
            device=r.choice(DEVICES),
        )
        roll = r.random()
        n_pii = 2 if roll < 0.02 else 1 if roll < 0.09 else 0
        conv.pii_kinds = tuple(r.sample(PII_KINDS, n_pii))
        conv.request = self._fill(conv, r.choice(intent.requests))
        talk = _Talk(r, channel, start)
        builders = {
            "chat": self._bot_flow,
            "messaging": self._bot_flow,
            "voice": self._voice_flow,
            "email": self._email_flow,
            "social": self._social_flow,
        }
        conv.end = builders[channel](talk, conv)
        conv.turns, conv.events, conv.hold_ms = talk.turns, talk.events, talk.hold_ms
        conv.disposition = outcome
        if outcome == "unresolved" and r.random() < 0.05:
            conv.disposition = None  # some sources leave it empty
        return conv

    def _fill(self, conv: _Conv, text: str) -> str:
        return text.format(order=conv.order, amount=conv.amount, device=conv.device)

    def _agent(self, team: str) -> str:
        return self.rnd.choice(self.agents[team])

    @staticmethod
    def _agent_name(agent: str) -> str:
        return AGENT_NAMES[int(agent[-4:]) % len(AGENT_NAMES)]

    def _opening(self, talk: _Talk, conv: _Conv) -> None:
        if conv.position > 1:
            talk.say("customer", self.rnd.choice(REPEAT_OPENERS))
        talk.say("customer", conv.request)
        if conv.frustrated and self.rnd.random() < 0.6:
            talk.say("customer", self.rnd.choice(FRUSTRATION))

    def _restate(self, talk: _Talk, conv: _Conv, asker: str, agent: str | None) -> None:
        talk.say(asker, BOT_REPHRASE if asker == "bot" else AGENT_RECAP, agent)
        talk.say("customer", "Again, " + _lower_first(conv.request))
        conv.restated = True

    def _pii_exchange(self, talk: _Talk, conv: _Conv, asker: str, agent: str | None) -> None:
        for kind in conv.pii_kinds:
            value = _pii_value(self.rnd, kind)
            talk.say(asker, PII_ASK[kind], agent)
            turn_id = talk.say("customer", self.rnd.choice(PII_ANSWER[kind]).format(v=value))
            conv.pii.append((turn_id, kind, value))

    def _bot_flow(self, talk: _Talk, conv: _Conv) -> int:
        r = self.rnd
        intent = conv.intent
        talk.say("bot", r.choice(BOT_GREETINGS))
        self._opening(talk, conv)
        if conv.repetition:
            self._restate(talk, conv, "bot", None)
        talk.say("bot", r.choice(BOT_CLARIFY))
        talk.say("customer", self._fill(conv, r.choice(intent.details)))
        if conv.contained:
            self._pii_exchange(talk, conv, "bot", None)
            talk.say("bot", self._fill(conv, intent.bot_fix))
            if conv.outcome == "abandoned":
                return talk.t + r.randint(3 * MINUTE, 10 * MINUTE)
            if conv.outcome == "resolved":
                talk.say("customer", r.choice(CUSTOMER_THANKS))
                talk.say("bot", BOT_BYE_OK)
            else:
                talk.say("customer", r.choice(CUSTOMER_UNHAPPY))
                talk.say("bot", BOT_BYE_FAIL)
            return talk.t + r.randint(5 * SECOND, 60 * SECOND)
        if conv.escalate:
            talk.say("customer", r.choice(ESCALATION_REQUESTS))
        talk.say("bot", r.choice(BOT_HANDOFF))
        agent = self._agent(intent.team)
        talk.event("handoff_to_agent", agent, intent.team)
        talk.say("system", SYSTEM_QUEUE)
        if conv.outcome == "abandoned" and r.random() < 0.6:
            return talk.t + _loguniform(r, 1 * MINUTE, 8 * MINUTE)  # left the queue
        talk.wait(30 * SECOND, 6 * MINUTE)
        return self._agent_dialog(talk, conv, agent, opened=True)

    def _voice_flow(self, talk: _Talk, conv: _Conv) -> int:
        r = self.rnd
        intent = conv.intent
        talk.say("bot", IVR_GREETING)
        talk.say("customer", intent.ivr)
        if conv.escalate:
            talk.say("customer", r.choice(ESCALATION_REQUESTS))
        if conv.contained:
            talk.say("bot", self._fill(conv, intent.bot_fix))
            if conv.outcome == "abandoned":
                return talk.t + r.randint(500, 3 * SECOND)  # hung up on the IVR
            talk.say("customer", r.choice(CUSTOMER_THANKS if conv.outcome == "resolved" else CUSTOMER_UNHAPPY))
            talk.say("bot", IVR_BYE)
            return talk.t + r.randint(500, 3 * SECOND)
        talk.say("bot", IVR_HANDOFF)
        agent = self._agent(intent.team)
        talk.event("handoff_to_agent", agent, intent.team)
        if conv.outcome == "abandoned" and r.random() < 0.6:
            return talk.t + _loguniform(r, 30 * SECOND, 6 * MINUTE)  # hung up in the queue
        talk.wait(20 * SECOND, 8 * MINUTE)
        return self._agent_dialog(talk, conv, agent, opened=False)

    def _email_flow(self, talk: _Talk, conv: _Conv) -> int:
        r = self.rnd
        intent = conv.intent
        parts = [r.choice(REPEAT_OPENERS)] if conv.position > 1 else []
        parts += [conv.request, self._fill(conv, r.choice(intent.details))]
        if conv.frustrated:
            parts.append(r.choice(FRUSTRATION))
        values = [(kind, _pii_value(r, kind)) for kind in conv.pii_kinds]
        parts += [EMAIL_SENTENCE[kind].format(v=value) for kind, value in values]
        if conv.escalate:
            parts.append(r.choice(ESCALATION_REQUESTS))
        body_id = talk.say("customer", " ".join(parts))
        conv.pii.extend((body_id, kind, value) for kind, value in values)
        talk.say("system", EMAIL_ACK.format(ref=f"NW-{r.randint(100000, 999999)}"))
        agent = self._agent(intent.team)
        if conv.outcome == "abandoned":
            talk.say("agent", ORDER_ASK if intent.uses_order else LAST4_ASK, agent)
            return talk.t
        if r.random() < 0.5:
            talk.say("agent", ORDER_ASK if intent.uses_order else LAST4_ASK, agent)
            answer = ORDER_ANSWER if intent.uses_order else LAST4_ANSWER
            talk.say("customer", answer.format(order=conv.order, last4=_digits(r, 4)))
        if conv.outcome == "resolved":
            talk.say("agent", self._fill(conv, r.choice(intent.agent_fix)), agent)
            if r.random() < 0.4:
                talk.say("customer", r.choice(CUSTOMER_THANKS))
        else:
            talk.say("agent", r.choice(AGENT_UNRESOLVED), agent)
            talk.say("customer", r.choice((*CUSTOMER_UNHAPPY, CUSTOMER_WAITING)))
        return talk.t

    def _social_flow(self, talk: _Talk, conv: _Conv) -> int:
        r = self.rnd
        post = f"@{BRAND} {conv.request}"
        if conv.frustrated:
            post += " " + r.choice(FRUSTRATION)
        if conv.escalate:
            post += " " + r.choice(ESCALATION_REQUESTS)
        talk.say("customer", post)
        agent = self._agent(conv.intent.team)
        talk.say("agent", SOCIAL_REPLY, agent)
        if conv.outcome == "abandoned":
            return talk.t
        talk.say("customer", self._fill(conv, r.choice(conv.intent.details)))
        return self._agent_dialog(talk, conv, agent, opened=True, greet=False)

    def _agent_dialog(self, talk: _Talk, conv: _Conv, agent: str, opened: bool, greet: bool = True) -> int:
        r = self.rnd
        intent = conv.intent
        if greet:
            talk.say("agent", r.choice(AGENT_GREETINGS).format(name=self._agent_name(agent)), agent)
        if not opened:
            self._opening(talk, conv)
            if conv.repetition:
                self._restate(talk, conv, "agent", agent)
        talk.say("agent", ORDER_ASK if intent.uses_order else LAST4_ASK, agent)
        answer = ORDER_ANSWER if intent.uses_order else LAST4_ANSWER
        talk.say("customer", answer.format(order=conv.order, last4=_digits(r, 4)))
        self._pii_exchange(talk, conv, "agent", agent)
        n = r.randint(*intent.exchanges)
        checks = r.sample(AGENT_CHECKS, n)
        replies = r.sample(CUSTOMER_ACKS, n)
        hold_at = r.randrange(n) if talk.channel == "voice" and r.random() < intent.hold else -1
        transfer_at = r.randrange(n) if r.random() < intent.transfer else -1
        for i, (line, reply) in enumerate(zip(checks, replies, strict=True)):
            talk.say("agent", line, agent)
            talk.say("customer", reply)
            if i == hold_at:
                talk.say("agent", r.choice(AGENT_HOLD), agent)
                talk.hold(agent)
                talk.say("agent", r.choice(AGENT_HOLD_BACK), agent)
            if i == transfer_at:
                agent = self._transfer(talk, conv, agent, TRANSFER_TO[intent.team])
        if conv.escalate:
            talk.say("agent", AGENT_ESCALATION_REPLY, agent)
            if r.random() < 0.4:
                agent = self._transfer(talk, conv, agent, "supervisors")
        if conv.outcome == "abandoned":
            talk.say("agent", AGENT_STILL_THERE, agent)
            if talk.channel == "voice":
                return talk.t + r.randint(500, 2 * SECOND)
            return talk.t + r.randint(2 * MINUTE, 5 * MINUTE)
        if conv.outcome == "resolved":
            talk.say("agent", self._fill(conv, r.choice(intent.agent_fix)), agent)
            talk.say("customer", r.choice(CUSTOMER_THANKS))
        else:
            talk.say("agent", r.choice(AGENT_UNRESOLVED), agent)
            talk.say("customer", r.choice((*CUSTOMER_UNHAPPY, CUSTOMER_WAITING)))
        talk.say("agent", AGENT_BYE, agent)
        if talk.channel == "voice":
            return talk.t + r.randint(500, 3 * SECOND)
        return talk.t + r.randint(10 * SECOND, 2 * MINUTE)

    def _transfer(self, talk: _Talk, conv: _Conv, agent: str, team: str) -> str:
        talk.say("agent", AGENT_TRANSFER.format(team=team.replace("_", " ")), agent)
        new_agent = self._agent(team)
        talk.event("transfer", new_agent, team)
        if talk.channel != "voice":
            talk.say("system", SYSTEM_TRANSFER.format(team=team.replace("_", " ")))
        talk.wait(20 * SECOND, 150 * SECOND)
        greeting = AGENT_TRANSFER_GREETING.format(name=self._agent_name(new_agent), team=team.replace("_", " "))
        talk.say("agent", greeting, new_agent)
        return new_agent

    def _csat(self, chain: list[_Conv]) -> None:
        """Surveyed CSAT on ~15% of contacts, driven by what happened."""
        r = self.rnd
        for i, conv in enumerate(chain):
            if r.random() >= (0.04 if conv.outcome == "abandoned" else SURVEY_RATE):
                continue
            transfers = sum(e["event_type"] == "transfer" for e in conv.events)
            mu = 4.5
            mu -= 1.6 * (conv.outcome != "resolved")
            mu += 0.3 * (conv.contained and conv.outcome == "resolved")
            mu -= 0.6 * (conv.position - 1) + 0.4 * (i < len(chain) - 1)
            mu -= 0.5 * transfers + 0.5 * (conv.hold_ms > 2 * MINUTE)
            mu -= 0.9 * conv.escalate + 0.5 * conv.frustrated
            conv.csat = min(5, max(1, round(mu + r.gauss(0, 0.6))))

    # ----------------------------------------------------------------- sessions

    def _customer_sessions(self, device: _Device, convs: list[_Conv], n_background: int) -> None:
        r = self.rnd
        for conv in convs:
            if conv.web_session:
                self._pre_contact_session(device, conv, convs)
        for conv in convs:
            happy = conv.contained and conv.outcome == "resolved"
            if r.random() < (0.25 if happy else 0.12):
                self._post_contact_session(device, conv, convs, r.random() < (0.3 if happy else 0.2))
        for _ in range(n_background):
            self._background_session(device, convs)

    @staticmethod
    def _bands(convs: list[_Conv], skip: _Conv | None = None) -> list[tuple[int, int]]:
        """Window edges a friction session must keep clear of (ms intervals)."""
        bands = []
        for conv in convs:
            if conv is skip:
                continue
            edge = conv.start - PRE_CONTACT_MS
            bands.append((edge - EDGE_GUARD_MS, edge + EDGE_GUARD_MS))
            bands.append((conv.start - MINUTE, conv.end + EDGE_GUARD_MS))
            edge = conv.end + POST_CONTACT_MS
            bands.append((edge - EDGE_GUARD_MS, edge + EDGE_GUARD_MS))
        return bands

    def _scenario(self, device: _Device, name: str) -> str:
        if name == "crash" and device.app == "web":
            name = "broken_page"
        if device.sessionless and name in TELEMETRY_SCENARIOS:
            name = "rage_save"
        return name

    def _new_session(self, device: _Device) -> _Session:
        return _Session(self.rnd, device.app, telemetry_friction=not device.sessionless)

    def _add_session(
        self,
        device: _Device,
        build: Callable[[bool], _Session],
        start_for: Callable[[int], int | None],
        friction: bool,
        bands: list[tuple[int, int]],
    ) -> None:
        for with_friction in (True, False) if friction else (False,):
            s = build(with_friction)
            start = start_for(s.span)
            if start is None or start < self.t0 or start + s.span >= self.t1:
                return
            if not device.free(start, start + s.span):
                return
            if s.friction_at and _overlaps(bands, start, start + s.span):
                continue
            self._commit(device, s, start)
            return

    def _pre_contact_session(self, device: _Device, conv: _Conv, convs: list[_Conv]) -> None:
        r = self.rnd
        intent = conv.intent
        order = conv.order
        chat = conv.channel in BOT_CHANNELS

        def build(with_friction: bool) -> _Session:
            s = self._new_session(device)
            for page in intent.pages:
                s.go(page.format(order=order))
            if with_friction:
                SCENARIOS[self._scenario(device, intent.scenario)](s, r, order)
                if s.crashed:
                    return s
            _light_touch(s, r)
            s.read(intent.article)
            if conv.channel in CONTACT_BUTTON:
                s.go("/help/contact")
                s.press(CONTACT_BUTTON[conv.channel], "contact_start", {"channel": conv.channel})
            s.end(leave=not chat)
            return s

        def start_for(span: int) -> int | None:
            earliest = conv.start - PRE_CONTACT_MS + 8 * MINUTE
            if chat:  # the chat opens from the contact button seconds later
                start = conv.start - r.randint(10 * SECOND, 90 * SECOND) - span
                return start if start >= earliest else None
            start = conv.start - r.randint(3 * MINUTE, 30 * MINUTE) - span
            if start < earliest:
                start = earliest
                if start + span > conv.start - 30 * SECOND:
                    return None
            return start

        self._add_session(device, build, start_for, conv.friction, self._bands(convs, skip=conv))

    def _post_contact_session(self, device: _Device, conv: _Conv, convs: list[_Conv], friction: bool) -> None:
        r = self.rnd
        intent = conv.intent

        def build(with_friction: bool) -> _Session:
            s = self._new_session(device)
            for page in intent.pages:
                s.go(page.format(order=conv.order))
            if with_friction:
                SCENARIOS[self._scenario(device, intent.scenario)](s, r, conv.order)
            else:
                s.scroll()
            s.end()
            return s

        start = conv.end + r.randint(1 * HOUR, 20 * HOUR)
        self._add_session(device, build, lambda _span: start, friction, self._bands(convs))

    def _background_session(self, device: _Device, convs: list[_Conv]) -> None:
        r = self.rnd
        start = self._random_time()
        # Keep unplanned sessions well away from this customer's contacts.
        zones = [(conv.start - 3 * HOUR, conv.end + 30 * HOUR) for conv in convs]
        if _overlaps(zones, start, start) or not device.free(start, start):
            return
        friction = r.random() < BACKGROUND_FRICTION
        order = _order_number(r)

        def build(with_friction: bool) -> _Session:
            s = self._new_session(device)
            flow = r.choices([f for f, _ in FLOWS], [w for _, w in FLOWS])[0]
            flow(s, r, order)
            if with_friction:
                names = [n for n in SCENARIOS if self._scenario(device, n) == n]
                SCENARIOS[r.choice(names)](s, r, order)
            if not s.crashed:
                _light_touch(s, r)
            s.end()
            return s

        def start_for(span: int) -> int | None:
            return None if _overlaps(zones, start, start + span) else start

        self._add_session(device, build, start_for, friction, [])

    def _midnight_sessions(self) -> None:
        """One session with a session_id and one without that span midnight UTC (day 1), each on the first
        free web device of its kind (the first shard that has one places it)."""
        midnight = self.t0 + DAY
        for sessionless in list(self.midnight_pending):
            for device in self.devices:
                if device.sessionless != sessionless or device.app != "web":
                    continue
                if not device.free(midnight - 2 * HOUR, midnight + 2 * HOUR):
                    continue
                s = self._new_session(device)
                s.enter("/")
                for product in PRODUCTS:
                    s.nav(product)
                    s.t += self.rnd.randint(60 * SECOND, 100 * SECOND)
                    s.scroll()
                s.end()
                self._commit(device, s, midnight - s.span // 2)
                self.midnight_pending.remove(sessionless)
                break

    def _commit(self, device: _Device, s: _Session, start: int) -> None:
        session_id = None if device.sessionless else self._serial_id("s-")
        customer_id = None if device.customer is None else self.customer_ids[device.customer]
        device.busy.append((start, start + s.span))
        for t, event_type, page, target, x, y, props in s.events:
            self.event_rows.append(
                (start + t, self._serial_id("e-"), customer_id, device.anonymous_id, session_id, event_type,
                 page, target, x, y, props)
            )  # fmt: skip
        for t, kind, name, status, duration, message in s.telemetry:
            self.telemetry_rows.append(
                (start + t, customer_id, device.anonymous_id, session_id, device.app, kind, name, status,
                 duration, message)
            )  # fmt: skip
        if device.customer is not None:
            self.friction_at.setdefault(device.customer, []).extend(start + t for t in s.friction_at)
        self.sessions.append(
            _PlacedSession(session_id, device, customer_id, start + s.events[0][0], start + s.events[-1][0],
                           s.counts)
        )  # fmt: skip

    def _background_telemetry(self) -> None:
        """App background syncs: no session, ordinary latency."""
        for device in self.devices:
            if device.app == "web" or device.customer is None:
                continue
            for _ in range(self.rnd.choice((0, 0, 1, 2)) * self.days // 7):
                duration = float(self.rnd.randint(80, 1_200))
                kind, name = self.rnd.choice((("api_call", "/api/v2/sync"), ("latency", "background_refresh")))
                self.telemetry_rows.append(
                    (self._random_time(), self.customer_ids[device.customer], device.anonymous_id, None,
                     device.app, kind, name, 200, duration, None)
                )  # fmt: skip

    # ----------------------------------------------------------------- output

    def day_of(self, ms: int) -> int:
        """0-based index of the UTC day holding `ms` (ms since the epoch)."""
        return (ms - self.t0) // DAY

    def spill(self, spool: _Spool) -> dict[str, int]:
        """Hand this shard's records to `spool`, by UTC day, and forget them; the row counts handed over.

        Conversations get serial numbers in planning order here; their ids (numbered by start time over all
        shards) are only known once every shard is planned, so the spool holds the serials."""
        convs = sorted((c for chain in self.chains for c in chain), key=lambda c: (c.start, c.customer))
        for conv in convs:
            conv.serial = len(self.conv_starts)
            self.conv_starts.append(conv.start)
            self.conv_customers.append(conv.customer)
            times = self.friction_at.get(conv.customer, [])
            conv.pre_friction = any(conv.start - PRE_CONTACT_MS <= t < conv.start for t in times)
            conv.post_friction = any(conv.end < t <= conv.end + POST_CONTACT_MS for t in times)
        spool.add_rows("transcripts", self._transcript_rows(convs))
        spool.add_rows("truth_conversations", self._truth_conversation_rows())
        spool.add_rows("truth_pii", [
            (self.day_of(conv.start), {"conversation_id": conv.serial, "turn_id": turn_id, "pii_type": kind,
                                       "value": value})
            for conv in convs for turn_id, kind, value in conv.pii
        ])  # fmt: skip
        spool.add_rows("truth_sessions", [
            (self.day_of(s.start), {"session_id": s.session_id, "anonymous_id": s.device.anonymous_id,
                                    "customer_id": s.customer_id, "session_start": s.start * 1_000,
                                    "session_end": s.end * 1_000, **s.counts,
                                    "has_rage_click": s.counts["rage_click_bursts"] > 0})
            for s in self.sessions
        ])  # fmt: skip
        spool.add_rows(
            "telemetry",
            [
                (self.day_of(row[0]), {"ts": row[0], "line": _telemetry_line(row)})
                for row in self.telemetry_rows
            ],
        )
        self._spill_events(spool)
        counts = {
            "conversations": len(convs),
            "turns": sum(len(conv.turns) for conv in convs),
            "conversation_events": sum(len(conv.events) for conv in convs),
            "telemetry": len(self.telemetry_rows),
            "events": len(self.event_rows),
            "sessions": len(self.sessions),
            "pii": sum(len(conv.pii) for conv in convs),
        }
        self._clear_shard()
        return counts

    def _transcript_rows(self, convs: list[_Conv]) -> list[tuple[int, dict[str, object]]]:
        rows = []
        for conv in convs:
            record = {
                "customer_id": self.customer_ids[conv.customer],
                "channel": conv.channel,
                "queue": ENTRY_QUEUE[conv.channel],
                "started_at": _iso(conv.start),
                "ended_at": _iso(conv.end),
                "consent_analytics": self.consent[conv.customer],
                "disposition": conv.disposition,
                "csat": conv.csat,
                "intent": conv.intent.name,
                "turns": [
                    {**turn, "ts": _iso(turn["ts"]), "end_ts": None if turn["end_ts"] is None else _iso(turn["end_ts"])}
                    for turn in conv.turns
                ],
                "events": [{**event, "ts": _iso(event["ts"])} for event in conv.events],
            }
            # The record after its conversation_id (added when the id is known): `{"customer_id":...}` minus "{".
            tail = json.dumps(record, ensure_ascii=False, separators=(",", ":"))[1:]
            rows.append((self.day_of(conv.start), {"conversation_id": conv.serial, "tail": tail}))
        return rows

    def _truth_conversation_rows(self) -> list[tuple[int, dict[str, object]]]:
        rows = []
        for chain in self.chains:
            first, last = chain[0], chain[-1]
            resolved = last.disposition == "resolved"
            for i, conv in enumerate(chain):
                speakers = {turn["speaker"] for turn in conv.turns}
                kinds = [event["event_type"] for event in conv.events]
                escalated = "agent" in speakers or "handoff_to_agent" in kinds
                row = {
                    "conversation_id": conv.serial,
                    "customer_id": self.customer_ids[conv.customer],
                    "channel": conv.channel,
                    "intent": conv.intent.name,
                    "started_at": conv.start * 1_000,
                    "ended_at": conv.end * 1_000,
                    "contained": not escalated,
                    "escalated": escalated,
                    "abandoned": conv.disposition == "abandoned",
                    "repeat_contact": i < len(chain) - 1,
                    "chain_id": first.serial,
                    "chain_position": i + 1,
                    "chain_resolved": resolved,
                    "resolving_conversation_id": last.serial if resolved else None,
                    "time_to_resolve_seconds": (last.end - first.start) / SECOND if resolved else None,
                    "escalation_requested": conv.escalate,
                    "repetition": conv.restated,
                    "transfers": kinds.count("transfer"),
                    "handoffs": kinds.count("handoff_to_agent"),
                    "hold_seconds": conv.hold_ms / SECOND,
                    "consent_analytics": self.consent[conv.customer],
                    "csat": conv.csat,
                    "pre_contact_friction": conv.pre_friction,
                    "post_contact_friction": conv.post_friction,
                }
                rows.append((self.day_of(conv.start), row))
        return rows

    def _spill_events(self, spool: _Spool) -> None:
        by_day: dict[int, list[tuple[Any, ...]]] = {}
        for row in self.event_rows:
            by_day.setdefault(self.day_of(row[0]), []).append(row)
        for day, rows in sorted(by_day.items()):
            columns = list(zip(*rows, strict=True))
            arrays = [
                pa.array(columns[1], pa.string()),
                pa.array([t * 1_000 for t in columns[0]], pa.timestamp("us", tz="UTC")),
                *(pa.array(columns[i], EVENTS_SCHEMA.field(i).type) for i in range(2, len(EVENTS_SCHEMA))),
            ]
            spool.add("events", day, pa.Table.from_arrays(arrays, schema=EVENTS_SCHEMA))

    def conversation_numbers(self) -> np.ndarray:
        """Per conversation serial, its 1-based number: conversations ordered by start time, then customer."""
        order = np.lexsort((np.asarray(self.conv_customers, np.int64), np.asarray(self.conv_starts, np.int64)))
        numbers = np.empty(len(order), np.int64)
        numbers[order] = np.arange(1, len(order) + 1)
        return numbers


# --------------------------------------------------------------------------- writers


TELEMETRY_FIELDS = ("ts", "customer_id", "anonymous_id", "session_id", "app", "kind", "name", "status_code",
                    "duration_ms", "message")  # fmt: skip


def _telemetry_line(row: tuple[Any, ...]) -> str:
    record = dict(zip(TELEMETRY_FIELDS, (_iso(row[0]), *row[1:]), strict=True))
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


EVENTS_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("customer_id", pa.string()),
        ("anonymous_id", pa.string()),
        ("session_id", pa.string()),
        ("event_type", pa.string()),
        ("page", pa.string()),
        ("target", pa.string()),
        ("x", pa.int32()),
        ("y", pa.int32()),
        ("properties", pa.string()),
    ]
)
_TS = pa.timestamp("us", tz="UTC")
TRUTH_CONVERSATIONS_SCHEMA = pa.schema(
    [("conversation_id", pa.string()), ("customer_id", pa.string()), ("channel", pa.string()),
     ("intent", pa.string()), ("started_at", _TS), ("ended_at", _TS), ("contained", pa.bool_()),
     ("escalated", pa.bool_()), ("abandoned", pa.bool_()), ("repeat_contact", pa.bool_()),
     ("chain_id", pa.string()), ("chain_position", pa.int32()), ("chain_resolved", pa.bool_()),
     ("resolving_conversation_id", pa.string()), ("time_to_resolve_seconds", pa.float64()),
     ("escalation_requested", pa.bool_()), ("repetition", pa.bool_()), ("transfers", pa.int32()),
     ("handoffs", pa.int32()), ("hold_seconds", pa.float64()), ("consent_analytics", pa.bool_()),
     ("csat", pa.int32()), ("pre_contact_friction", pa.bool_()), ("post_contact_friction", pa.bool_())]
)  # fmt: skip
TRUTH_SESSIONS_SCHEMA = pa.schema(
    [("session_id", pa.string()), ("anonymous_id", pa.string()), ("customer_id", pa.string()),
     ("session_start", _TS), ("session_end", _TS), *((name, pa.int32()) for name in FRICTION_COUNTS),
     ("has_rage_click", pa.bool_())]
)  # fmt: skip
TRUTH_PII_SCHEMA = pa.schema(
    [("conversation_id", pa.string()), ("turn_id", pa.string()), ("pii_type", pa.string()), ("value", pa.string())]
)
# Columns that hold a conversation id in the output and the conversation's serial in the spool.
CONVERSATION_REFS = ("conversation_id", "chain_id", "resolving_conversation_id")


def _with_serials(schema: pa.Schema) -> pa.Schema:
    for name in CONVERSATION_REFS:
        if name in schema.names:
            schema = schema.set(schema.get_field_index(name), pa.field(name, pa.int64()))
    return schema


SPOOL_SCHEMAS = {
    "transcripts": pa.schema([("conversation_id", pa.int64()), ("tail", pa.string())]),
    "telemetry": pa.schema([("ts", pa.int64()), ("line", pa.string())]),
    "events": EVENTS_SCHEMA,
    "truth_conversations": _with_serials(TRUTH_CONVERSATIONS_SCHEMA),
    "truth_sessions": TRUTH_SESSIONS_SCHEMA,
    "truth_pii": _with_serials(TRUTH_PII_SCHEMA),
}


class _Spool:
    """Scratch Arrow IPC files, one per kind of record and UTC day: shards append, the writers read a day back.

    This is what keeps generation's memory to one shard's or one day's records whatever the history."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.writers: dict[tuple[str, int], pa.ipc.RecordBatchFileWriter] = {}
        self.options = pa.ipc.IpcWriteOptions(compression="lz4")

    def _path(self, kind: str, day: int) -> Path:
        return self.folder / f"{kind}-{day:05d}.arrow"

    def add(self, kind: str, day: int, table: pa.Table) -> None:
        """Append `table` (of the kind's spool schema) to `kind`'s records of 0-based day `day`."""
        writer = self.writers.get((kind, day))
        if writer is None:
            writer = pa.ipc.new_file(self._path(kind, day), SPOOL_SCHEMAS[kind], options=self.options)
            self.writers[kind, day] = writer
        writer.write_table(table)

    def add_rows(self, kind: str, rows: list[tuple[int, dict[str, object]]]) -> None:
        """Append (day, record) pairs, grouped by day."""
        by_day: dict[int, list[dict[str, object]]] = {}
        for day, record in rows:
            by_day.setdefault(day, []).append(record)
        for day, records in sorted(by_day.items()):
            self.add(kind, day, pa.Table.from_pylist(records, schema=SPOOL_SCHEMAS[kind]))

    def close(self) -> None:
        """Finish every file (needed before reading)."""
        for writer in self.writers.values():
            writer.close()

    def read(self, kind: str, day: int) -> pa.Table:
        """All of `kind`'s records of day `day`, in the order they were added."""
        if (kind, day) not in self.writers:
            return SPOOL_SCHEMAS[kind].empty_table()
        with pa.memory_map(str(self._path(kind, day))) as source:
            table = pa.ipc.open_file(source).read_all()
        self._path(kind, day).unlink()
        return table


def _ids(serials: pa.ChunkedArray, numbers: np.ndarray) -> pa.Array:
    """Conversation ids ("CV0000001") of conversation serials (nulls stay null)."""
    return pa.array(
        [None if g is None else f"CV{numbers[g]:07d}" for g in serials.to_pylist()], pa.string()
    )


def _by_conversation(table: pa.Table, numbers: np.ndarray, schema: pa.Schema) -> pa.Table:
    """`table` with its serials replaced by conversation ids, ordered by conversation (stable)."""
    order = np.argsort(numbers[table["conversation_id"].to_numpy()], kind="stable")
    table = table.take(pa.array(order, pa.int64()))
    for name in CONVERSATION_REFS:
        if name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, _ids(table[name], numbers))
    return table.cast(schema)


def _write_day(out: Path, spool: _Spool, day: int, name: str, numbers: np.ndarray,
               truth: dict[str, pq.ParquetWriter]) -> None:  # fmt: skip
    """Write UTC day `day` (0-based; `name` is YYYY-MM-DD) of every source, and its truth rows."""
    transcripts = spool.read("transcripts", day)
    serials = transcripts["conversation_id"].to_numpy()
    tails = transcripts["tail"].to_pylist()
    lines = [f'{{"conversation_id":"CV{numbers[serials[i]]:07d}",{tails[i]}\n'
             for i in np.argsort(numbers[serials], kind="stable")]  # fmt: skip
    # mtime=0 and no file name in the gzip header keep the bytes reproducible.
    with (
        open(out / "transcripts" / f"transcripts-{name}.jsonl.gz", "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
    ):
        gz.write("".join(lines).encode())
    del transcripts, tails, lines

    # Stable sorts by timestamp: creation order breaks ties, so each session keeps its own event order.
    telemetry = spool.read("telemetry", day)
    telemetry = telemetry.take(pc.sort_indices(telemetry, [("ts", "ascending")]))
    text = "".join(line + "\n" for line in telemetry["line"].to_pylist())
    (out / "telemetry" / f"telemetry-{name}.jsonl").write_text(text, encoding="utf-8")
    del telemetry, text

    events = spool.read("events", day)
    events = events.take(pc.sort_indices(events, [("ts", "ascending")]))
    pq.write_table(events.combine_chunks(), out / "events" / f"events-{name}.parquet")
    del events

    conversations = spool.read("truth_conversations", day)
    truth["conversations"].write_table(_by_conversation(conversations, numbers, TRUTH_CONVERSATIONS_SCHEMA))
    pii = spool.read("truth_pii", day)
    truth["pii"].write_table(_by_conversation(pii, numbers, TRUTH_PII_SCHEMA))
    sessions = spool.read("truth_sessions", day)
    truth["sessions"].write_table(
        sessions.sort_by([("session_start", "ascending"), ("anonymous_id", "ascending")])
    )


TRUTH_README = """\
# Planted ground truth

Written by `cx-signals generate`; the pipeline never reads this folder. Times are UTC.

## conversations.parquet (one row per conversation)

- conversation_id, customer_id, channel, intent, started_at, ended_at, consent_analytics, csat: as in the
  transcripts (csat null when not surveyed).
- contained: no agent turn and no handoff_to_agent event (the bot, or the voice IVR, handled it alone).
- escalated: an agent turn or a handoff_to_agent event (so every email handled by an agent is escalated).
- abandoned: disposition == 'abandoned'.
- repeat_contact: the same customer has another conversation, any channel, with the same intent, starting
  after this one's ended_at and within R days of it (R = repeat_window_days, default 7).
- chain_id, chain_position: repeat chain = same customer and intent, each contact starting within R days
  of the previous contact's end; chain_id is the first contact's conversation_id, position is 1-based.
- chain_resolved: the chain's last contact has disposition 'resolved' (null or other dispositions: open).
- resolving_conversation_id: the chain's last contact when resolved, else null.
- time_to_resolve_seconds: first contact's started_at to the resolving contact's ended_at, null if open.
- escalation_requested: a customer turn asks for a human, agent, manager, supervisor or to complain (every
  such text matches one of conversation.escalation_patterns; no other customer text does).
- repetition: the customer restated the opening request word for word ("Again, ..."); token Jaccard of the
  two turns >= 0.6, while other customer turn pairs stay below 0.6.
- transfers, handoffs: counts of transfer and handoff_to_agent events. hold_seconds: sum of hold_end -
  hold_start.
- pre_contact_friction: the customer has a friction item (below) timestamped in [started_at - 60 min,
  started_at).
- post_contact_friction: the customer has a friction item in (ended_at, ended_at + 24 h].

A friction item is a rage click burst (its first click), a form_error event, an error click (the click), a
crash or a slow page (the latency row). Every session holding one scores >= 3.0 with the default
friction.score_weights, and no such session overlaps a window edge (started_at - 60 min, ended_at + 24 h,
or another contact) by less than 5 minutes, so session-level and event-level readings agree.

## sessions.parquet (one row per web/app session)

- session_id: null for trackers that send none; sessionise those events per anonymous_id on 30 minutes of
  inactivity (sessions of one device are always > 45 min apart, gaps inside a session are < 30 min).
- anonymous_id, customer_id (null for anonymous visitors), session_start and session_end (first and last
  behavioural event; telemetry rows may fall after the last event, e.g. a crash).
- rage_click_bursts: maximal runs of >= 3 consecutive clicks in the session, each < 1000 ms and < 30 px
  (|dx| + |dy|) from the previous click. rage_clicks: clicks inside those runs.
- dead_clicks: clicks outside rage bursts followed by no page_view, page_leave, dom_change, scroll or input
  event of the same session within 2500 ms (here every rage-burst click is also answered within 2500 ms).
- error_clicks: clicks followed within 1000 ms by a telemetry row of kind 'error' with the same session_id.
- form_errors: form_error events. help_views: help_view events.
- quick_backs: a page_view of page B whose next page_view is the page viewed before B, less than 10 s later.
- slow_pages: telemetry kind 'latency' with duration_ms > 4000 (others stay <= 1500).
- crashes: telemetry kind 'crash'. errors: telemetry kind 'error' (error clicks plus a few background
  errors, which come > 1.6 s after any click).
- has_rage_click: rage_click_bursts > 0.

Decoys that count as nothing: double clicks (exactly two quick clicks), quick clicks >= 60 px apart, and
repeated clicks 1.6-2.4 s apart. Ordinary clicks are >= 1.6 s apart and answered within 800 ms.
Sessionless sessions carry no error, crash or slow-page telemetry.

## pii.parquet (one row per PII string planted in a customer turn)

- conversation_id, turn_id, pii_type (email | phone | card | iban), value (exactly as in the text). Cards
  pass the Luhn check, IBANs the mod-97 check; phone numbers are fictional (Ofcom 020 7946 0xxx, US
  555-01xx). Order numbers ("order 4471-2201"), amounts ("$49.99"), card last four digits and email
  reference numbers ("NW-123456") are not PII.
"""


SHARD_CUSTOMER_DAYS = 150_000  # customers x days planned at once: bounds generation's memory (about 0.5 GiB)


def generate_landing(
    out: Path,
    days: int = 14,
    customers: int = 2000,
    seed: int = 7,
    start: date = DEFAULT_START,
    repeat_window_days: int = 7,
) -> dict[str, int]:
    """Write `days` UTC days of synthetic landing data for `customers` customers under `out`.

    Layout: transcripts/transcripts-YYYY-MM-DD.jsonl.gz, telemetry/telemetry-YYYY-MM-DD.jsonl,
    events/events-YYYY-MM-DD.parquet and _truth/ (see its README.md). `repeat_window_days` is R, the
    repeat-contact window the truth is computed with. Returns row counts per output.

    Customers are planned in shards of about SHARD_CUSTOMER_DAYS customer-days, spooled to scratch files
    under `out` by day, then written one day at a time, so memory does not grow with customers x days.
    """
    if days < 1 or customers < 1:
        raise ValueError("days and customers must be at least 1")
    out = Path(out)
    for folder in ("transcripts", "telemetry", "events", "_truth"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    world = _World(days, customers, seed, start, repeat_window_days)
    counts = {"customers": customers, **dict.fromkeys(
        ("conversations", "turns", "conversation_events", "telemetry", "events", "sessions", "pii"), 0)}  # fmt: skip
    shard = max(1, SHARD_CUSTOMER_DAYS // days)
    with tempfile.TemporaryDirectory(prefix=".spool-", dir=out) as scratch:
        spool = _Spool(Path(scratch))
        for lo in range(0, customers, shard):
            world.plan_shard(lo, min(customers, lo + shard))
            for key, value in world.spill(spool).items():
                counts[key] += value
        spool.close()
        numbers = world.conversation_numbers()
        schemas = {
            "conversations": TRUTH_CONVERSATIONS_SCHEMA,
            "sessions": TRUTH_SESSIONS_SCHEMA,
            "pii": TRUTH_PII_SCHEMA,
        }
        truth = {name: pq.ParquetWriter(out / "_truth" / f"{name}.parquet", schema) for name, schema in schemas.items()}
        try:
            for day in range(days):
                _write_day(out, spool, day, _iso(world.t0 + day * DAY)[:10], numbers, truth)
        finally:
            for writer in truth.values():
                writer.close()
    (out / "_truth" / "README.md").write_text(TRUTH_README, encoding="utf-8")
    return counts
