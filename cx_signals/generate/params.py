"""Time units, rates, shares and channel settings that shape the synthetic business (times in ms)."""

from __future__ import annotations

from datetime import date

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
# Bot outcomes planted on top of a chat or messaging bot flow, drawn from their own stream (so every other draw, and
# every other conversation, stays as it was). Shares of the bot conversations they can apply to:
ASSUMED_RESOLUTION_SHARE = 0.3  # contained and resolved: the customer takes the answer without confirming it
REPHRASE_LOOP_SHARE = 0.5  # restated requests (not abandoned after the bot's fix): the bot asks to rephrase twice
FIX_LOOP_SHARE = 0.5  # contained, the customer unhappy with the fix: the bot gives the same fix again
