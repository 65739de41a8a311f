"""Industry data for the playbooks (config/playbooks/, docs/playbooks.md): each industry's contact reasons, the PII
its customers give and the disclosures its agents and bots say, or miss.

`Industry.for_playbook` builds one from a playbook's parameters: the intents are the playbook's (each must have a
definition in `INDUSTRY_INTENTS`), the PII kinds the playbook's `pii_entities` that the generator can write, and the
disclosures the playbook's, said with the lines of `DISCLOSURE_LINES`. The plain generator (no playbook) never
calls into this module, so its files stay as they were.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from cx_signals.config import PlaybookParameters
from cx_signals.generate.intents import INTENTS, Intent
from cx_signals.generate.params import BOT_CHANNELS, CHANNELS
from cx_signals.generate.phrases import EMAIL_SENTENCE, PII_ANSWER, PII_ASK
from cx_signals.generate.values import digits, pii_value

# Share of applicable disclosures the generator leaves out (planted misses), and the share of bot-or-agent
# disclosures the bot leaves to the agent (said later, often after a deadline).
MISS_RATE = 0.15
LEFT_TO_AGENT = 0.10
# Industries plant PII more often than the plain generator (one kind in 40% of conversations, two in 10%), so that
# a small sample holds every kind.
PII_RATES = (0.10, 0.50)

_PHONE_CHANNELS = {"voice": 0.45, "chat": 0.3, "email": 0.1, "messaging": 0.1, "social": 0.05}
_CHAT_CHANNELS = {"chat": 0.45, "messaging": 0.2, "voice": 0.2, "email": 0.1, "social": 0.05}


def _intent(
    name: str,
    team: str,
    scenario: str,
    pages: tuple[str, ...],
    ivr: str,
    requests: tuple[str, ...],
    details: tuple[str, ...],
    bot_fix: str,
    agent_fix: tuple[str, ...],
    **tuning: Any,
) -> Intent:
    """An intent with middling behaviour unless `tuning` says otherwise (share is set by the industry's mix)."""
    values: dict[str, Any] = {
        "share": 1.0,
        "channels": _CHAT_CHANNELS,
        "bot_contain": 0.4,
        "resolve": 0.75,
        "exchanges": (2, 4),
        "transfer": 0.1,
        "hold": 0.3,
        "web_session": 0.5,
        "friction": 0.4,
        "article": name.replace("_", "-"),
        "uses_order": False,
        **tuning,
    }
    return Intent(name=name, team=team, scenario=scenario, pages=pages, ivr=ivr, requests=requests, details=details,
                  bot_fix=bot_fix, agent_fix=agent_fix, **values)  # fmt: skip


_RETAIL_KEPT = {i.name: i for i in INTENTS if i.name in ("delivery_status", "change_address", "payment_failed",
                                                         "refund_request")}  # fmt: skip

INDUSTRY_INTENTS: dict[str, Intent] = {
    intent.name: intent
    for intent in (
        # --- banking
        _intent(
            "card_lost_stolen",
            "accounts",
            "login_fail",
            ("/cards",),
            "Lost card.",
            (
                "I've lost my debit card, please block it.",
                "My card was stolen this morning.",
                "I can't find my credit card anywhere, can you freeze it?",
            ),
            ("I last used it at the supermarket yesterday.", "There might be payments I didn't make."),
            "I've frozen your card. A replacement will arrive in 3 to 5 working days.",
            ("I've cancelled the card and ordered a new one, it arrives within 5 working days.",),
            channels=_PHONE_CHANNELS,
            bot_contain=0.5,
        ),
        _intent(
            "card_declined",
            "payments",
            "checkout_fail",
            ("/cards", "/payments"),
            "Card declined.",
            (
                "My card keeps getting declined at the till.",
                "Why was my card declined for {amount}?",
                "Online payments with my card are refused.",
            ),
            ("I have plenty of money in the account.", "It worked fine last week."),
            "Your card was blocked by our fraud checks. I've unblocked it, please try again.",
            ("I've lifted the fraud block, the payment of {amount} should now go through.",),
        ),
        _intent(
            "payment_dispute",
            "billing",
            "rage_invoice",
            ("/payments", "/statements"),
            "Dispute a payment.",
            (
                "There's a payment of {amount} on my statement I don't recognise.",
                "I want to dispute a transaction of {amount}.",
                "A merchant charged me twice.",
            ),
            ("The payment was taken on Tuesday.", "I never shopped there."),
            "I've opened a dispute. We'll write to you within 10 working days.",
            ("I've raised a chargeback for {amount} and given you a temporary credit.",),
            channels=_PHONE_CHANNELS,
            bot_contain=0.1,
            transfer=0.3,
        ),
        _intent(
            "transfer_failed",
            "payments",
            "slow_site",
            ("/transfers",),
            "Transfer problem.",
            (
                "My bank transfer of {amount} hasn't arrived.",
                "The transfer to my landlord failed.",
                "I sent money yesterday and it's still pending.",
            ),
            ("The recipient says nothing has arrived.", "The app showed an error after I confirmed."),
            "Transfers can take up to 2 hours. Yours is being processed.",
            ("The transfer was held for a check, it has now been released.",),
        ),
        _intent(
            "online_banking_locked",
            "accounts",
            "login_fail",
            ("/login",),
            "Locked out of online banking.",
            (
                "I'm locked out of online banking.",
                "My online banking says my access is suspended.",
                "I entered my passcode wrong too many times.",
            ),
            ("I tried on my {device} and the website.", "I need to pay a bill today."),
            "I've sent you an activation code by text. Enter it to unlock your online banking.",
            ("I've reset your online banking access, please set a new passcode.",),
            bot_contain=0.35,
        ),
        _intent(
            "loan_application",
            "retention",
            "broken_page",
            ("/loans", "/loans/apply"),
            "Loan application.",
            (
                "I'd like to apply for a personal loan.",
                "What would a loan of {amount} cost me?",
                "The loan application page keeps failing.",
            ),
            ("It's for a new car.", "I'd like to pay it back over three years."),
            "You can check your eligibility for a loan without affecting your credit score on our website.",
            ("I've submitted the application, you'll have a decision within 24 hours.",),
            bot_contain=0.15,
        ),
        _intent(
            "investment_advice",
            "retention",
            "broken_page",
            ("/invest",),
            "Investments.",
            (
                "I want to invest some savings in a stocks and shares ISA.",
                "How do your investment funds work?",
                "Should I move my savings into your investment account?",
            ),
            ("I have about {amount} to put away.", "I'm thinking of the long term."),
            "You can compare our ready-made investment funds in the app.",
            ("I've opened the ISA for you, you can choose your fund in the app.",),
            bot_contain=0.1,
        ),
        # --- telecom
        _intent(
            "no_signal",
            "tech_support",
            "crash",
            ("/coverage",),
            "No signal.",
            (
                "I have no signal on my phone at home.",
                "My mobile shows no service since yesterday.",
                "Calls keep dropping in my area.",
            ),
            ("I restarted my {device} already.", "My neighbours have the same problem."),
            "There's a mast fault near you. Engineers expect to fix it within 24 hours.",
            ("I've reset your connection on the network, please restart the phone.",),
            channels=_PHONE_CHANNELS,
        ),
        _intent(
            "slow_broadband",
            "tech_support",
            "slow_site",
            ("/broadband", "/broadband/speedtest"),
            "Slow broadband.",
            (
                "My broadband is really slow in the evenings.",
                "The internet keeps cutting out.",
                "I'm getting a fraction of the speed I pay for.",
            ),
            ("The router lights are orange.", "I work from home so I need it fixed."),
            "I've run a line test and refreshed your connection. Please restart the router.",
            ("I've booked an engineer visit for Thursday morning.",),
        ),
        _intent(
            "bill_shock",
            "billing",
            "rage_invoice",
            ("/billing", "/billing/invoices"),
            "Bill too high.",
            (
                "My phone bill is {amount}, far more than usual.",
                "Why is my bill so high this month?",
                "I've been charged {amount} for data I didn't use.",
            ),
            ("My plan should be much cheaper.", "I didn't change anything."),
            "Here's a breakdown of your bill. Extra charges come from data over your allowance.",
            ("I've applied a goodwill credit of {amount} to your next bill.",),
            bot_contain=0.15,
        ),
        _intent(
            "roaming_charges",
            "billing",
            "rage_invoice",
            ("/billing", "/roaming"),
            "Roaming charges.",
            (
                "I was charged {amount} for roaming on holiday.",
                "Why did I pay roaming fees in Spain?",
                "Roaming should have been included in my plan.",
            ),
            ("I only used maps and messages.", "I was away for a week."),
            "Roaming in Europe is included on your plan from this month.",
            ("I've refunded the roaming charges of {amount}.",),
            bot_contain=0.2,
        ),
        _intent(
            "contract_upgrade",
            "retention",
            "checkout_fail",
            ("/upgrade", "/upgrade/phones"),
            "Upgrade.",
            (
                "I'd like to upgrade my phone.",
                "Am I eligible for an upgrade yet?",
                "I want a new contract with more data.",
            ),
            ("I'd like the new {device}.", "My contract ends next month."),
            "You're eligible to upgrade. You can pick a phone and plan in the app.",
            ("I've set up the new contract, the phone will arrive tomorrow.",),
            bot_contain=0.25,
        ),
        _intent(
            "sim_swap",
            "accounts",
            "login_fail",
            ("/sim",),
            "New SIM.",
            (
                "I need a replacement SIM card.",
                "My SIM stopped working, can I get a new one?",
                "I want to move my number to an eSIM.",
            ),
            ("I have a new {device}.", "The phone says no SIM."),
            "I've ordered a replacement SIM to your address on file.",
            ("I've activated the new SIM, it will work within an hour.",),
        ),
        _intent(
            "cancel_contract",
            "retention",
            "rage_cancel",
            ("/account", "/account/contract"),
            "Cancel contract.",
            (
                "I want to cancel my contract.",
                "How do I leave and keep my number?",
                "Please end my broadband contract.",
            ),
            ("I'm moving abroad.", "I found a cheaper deal."),
            "You can request your PAC code by text to keep your number.",
            ("I've ended the contract at the end of this month.",),
            channels=_PHONE_CHANNELS,
            bot_contain=0.1,
        ),
        # --- retail (four intents of the plain generator, and these)
        *_RETAIL_KEPT.values(),
        _intent(
            "return_label",
            "returns",
            "refund_form",
            ("/orders", "/orders/{order}/return"),
            "Returns.",
            (
                "I need a returns label for order {order}.",
                "How do I send back order {order}?",
                "The returns form won't give me a label.",
            ),
            ("The jacket is the wrong size.", "I'd like an exchange instead."),
            "I've emailed you a prepaid returns label for order {order}.",
            ("I've created the return for order {order} and emailed the label.",),
            uses_order=True,
        ),
        _intent(
            "loyalty_points",
            "orders",
            "rage_save",
            ("/account", "/account/rewards"),
            "Loyalty points.",
            (
                "My loyalty points are missing from my last order.",
                "Why didn't I get points for order {order}?",
                "My rewards balance is wrong.",
            ),
            ("I scanned my card at the till.", "It was a big order."),
            "Points take up to 7 days to appear after delivery.",
            ("I've added the missing points to your account.",),
            uses_order=True,
            bot_contain=0.55,
        ),
        # --- healthcare
        _intent(
            "book_appointment",
            "orders",
            "slow_site",
            ("/appointments", "/appointments/new"),
            "Book an appointment.",
            (
                "I need to book an appointment with my GP.",
                "Can I see a doctor this week?",
                "The online booking shows no free slots.",
            ),
            ("It's about my back pain.", "Mornings are best for me."),
            "I've booked you in for Tuesday at 9:30. You'll get a text reminder.",
            ("I've found you a slot tomorrow at 11:00.",),
            bot_contain=0.55,
        ),
        _intent(
            "cancel_appointment",
            "orders",
            "rage_cancel",
            ("/appointments",),
            "Cancel an appointment.",
            (
                "I need to cancel my appointment on Friday.",
                "Please move my appointment to next week.",
                "I can't make my hospital appointment.",
            ),
            ("I'm away with work.", "My child is ill."),
            "Your appointment has been cancelled.",
            ("I've moved your appointment to next Wednesday.",),
            bot_contain=0.6,
        ),
        _intent(
            "repeat_prescription",
            "payments",
            "checkout_fail",
            ("/prescriptions",),
            "Repeat prescription.",
            (
                "I need my repeat prescription.",
                "My prescription request was rejected online.",
                "Has my repeat prescription been sent to the pharmacy?",
            ),
            ("I'm running out tomorrow.", "It's my usual inhaler."),
            "Your request has gone to the practice. It takes 2 working days.",
            ("The prescription has been sent to your pharmacy.",),
        ),
        _intent(
            "test_results",
            "tech_support",
            "broken_page",
            ("/results",),
            "Test results.",
            (
                "Are my blood test results back?",
                "I can't see my test results in the app.",
                "The doctor said to call for my results.",
            ),
            ("The test was last Monday.", "I'm a bit worried."),
            "Your results are back and the doctor has reviewed them. They're in the app.",
            ("Your results are normal, no further action is needed.",),
            bot_contain=0.2,
        ),
        _intent(
            "records_access",
            "accounts",
            "login_fail",
            ("/login", "/records"),
            "Records access.",
            (
                "I want a copy of my medical records.",
                "I can't log in to see my health record.",
                "How do I get access to my records online?",
            ),
            ("I need them for an insurance claim.", "The app rejects my login."),
            "You can request your records with the form in the app.",
            ("I've sent the request to the records team, you'll get them within a month.",),
            bot_contain=0.2,
        ),
        _intent(
            "medical_bill",
            "billing",
            "rage_invoice",
            ("/billing",),
            "A bill.",
            (
                "I've been sent a bill for {amount} for my treatment.",
                "My insurer should have paid this bill.",
                "Why was I charged {amount} for a consultation?",
            ),
            ("The treatment was last month.", "I have private cover."),
            "I've sent the invoice to your insurer.",
            ("I've put the bill on hold while we check with your insurer.",),
            bot_contain=0.1,
            transfer=0.25,
        ),
    )
}

# What an agent or bot says for each disclosure of the bundled playbooks (tests check it matches the pack's phrases).
DISCLOSURE_LINES: dict[str, str] = {
    "call_recording": "Calls are recorded for training and quality purposes.",
    "identity_verification": "Before we go on, I need to verify your identity with a few security questions.",
    "investment_risk_warning": "Please remember the value of investments can go down as well as up.",
    "credit_warning": "The representative APR for this loan is 9.9%.",
    "contract_terms": "The contract summary sets out the minimum term of 24 months and the monthly price.",
    "cooling_off": "You have a 14-day cooling-off period to change your mind.",
    "early_termination_charges": "Early termination charges apply for the months left on the contract.",
    "sim_swap_security": "I've sent a one-time code to the number on the account, please read it back to me.",
    "refund_timescale": "The money will be back on your card within 14 days.",
    "card_data_warning": "For your safety, never type your full card number in this chat.",
    "emergency_signposting": "If this is an emergency, call 999. For urgent advice, contact NHS 111.",
}

# How customers give the industry PII kinds: asked by the agent or bot, said with the words that name it.
INDUSTRY_PII_ASK = {
    "sort_code": "Which sort code is the account with?",
    "account_number": "What's the account number?",
    "nhs_number": "Can you give me your NHS number?",
    "health_record": "Do you have your hospital number?",
    "date_of_birth": "Can you confirm your date of birth?",
    "imei": "What's the IMEI of the handset?",
}
INDUSTRY_PII_ANSWER = {
    "sort_code": ("The sort code is {v}.", "It's sort code {v}."),
    "account_number": ("My account number is {v}.", "Account number {v}."),
    "nhs_number": ("My NHS number is {v}.", "NHS number {v}."),
    "health_record": ("My hospital number is {v}.", "The MRN is {v}."),
    "date_of_birth": ("My date of birth is {v}.", "I was born on {v}."),
    "imei": ("The IMEI is {v}.", "IMEI {v}."),
}
# Every kind the generator writes (the plain generator's and the industries'), for the dialogues.
ALL_PII_ASK = {**PII_ASK, **INDUSTRY_PII_ASK}
ALL_PII_ANSWER = {**PII_ANSWER, **INDUSTRY_PII_ANSWER}
ALL_EMAIL_SENTENCE = {**EMAIL_SENTENCE, **{kind: answers[0] for kind, answers in INDUSTRY_PII_ANSWER.items()}}
WRITTEN_KINDS = tuple(ALL_PII_ASK)


def _check_digit_mod11(body: str) -> int | None:
    remainder = sum(int(d) * w for d, w in zip(body, range(10, 1, -1), strict=True)) % 11
    check = (11 - remainder) % 11
    return None if check == 10 else check


def _luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def industry_pii_value(r: random.Random, kind: str) -> str:
    """A fictional but valid-looking value of `kind`: NHS numbers pass mod 11, IMEIs Luhn, dates of birth are real."""
    if kind == "sort_code":
        code = digits(r, 6)
        return f"{code[:2]}-{code[2:4]}-{code[4:]}" if r.random() < 0.7 else code
    if kind == "account_number":
        return digits(r, 8)
    if kind == "nhs_number":
        while (check := _check_digit_mod11(body := "9" + digits(r, 8))) is None:
            pass
        number = f"{body}{check}"
        return f"{number[:3]} {number[3:6]} {number[6:]}" if r.random() < 0.6 else number
    if kind == "health_record":
        return r.choice(("", "RX", "MRN")) + digits(r, 7)
    if kind == "date_of_birth":
        born = date(1940, 1, 1) + timedelta(days=r.randrange(365 * 65))
        style = r.randrange(3)
        if style == 0:
            return born.strftime("%d/%m/%Y")
        return born.isoformat() if style == 1 else f"{born.day} {born.strftime('%B %Y')}"
    if kind == "imei":
        body = r.choice(("35", "86", "49")) + digits(r, 12)
        number = body + _luhn_digit(body)
        return f"{number[:2]}-{number[2:8]}-{number[8:14]}-{number[14]}" if r.random() < 0.4 else number
    return pii_value(r, kind)


@dataclass(frozen=True)
class Disclosure:
    """A disclosure the generator plants: who may say it, where it applies, and its line."""

    name: str
    speakers: tuple[str, ...]
    channels: tuple[str, ...]
    intents: tuple[str, ...]
    line: str

    def applies(self, channel: str, intent: str) -> bool:
        """Whether it is required in a conversation of `channel` and `intent` (before knowing who speaks)."""
        return (not self.channels or channel in self.channels) and (not self.intents or intent in self.intents)


@dataclass(frozen=True)
class Industry:
    """What the generator writes for one playbook."""

    name: str
    intents: tuple[Intent, ...]
    pii_kinds: tuple[str, ...]
    disclosures: tuple[Disclosure, ...]

    @classmethod
    def for_playbook(cls, playbook: PlaybookParameters) -> Industry:
        """The industry of `playbook` (ValueError naming an intent or disclosure the generator cannot write)."""
        names = [intent for journey in playbook.journeys for intent in journey.intents]
        unknown = [n for n in names if n not in INDUSTRY_INTENTS]
        unsaid = [d.name for d in playbook.disclosures if d.name not in DISCLOSURE_LINES]
        if unknown or unsaid or not names:
            raise ValueError(
                f"playbook {playbook.name}: the generator has no intents {unknown or names} "
                f"or disclosure lines {unsaid} (cx_signals/generate/industries.py)"
            )
        # the industry's intents are equally frequent
        intents = tuple(replace(INDUSTRY_INTENTS[n], share=1 / len(names)) for n in names)
        for intent in intents:
            unknown_channels = set(intent.channels) - set(CHANNELS)
            if unknown_channels:
                raise ValueError(f"intent {intent.name}: unknown channels {sorted(unknown_channels)}")
        return cls(
            name=playbook.name or "",
            intents=intents,
            pii_kinds=tuple(k for k in playbook.pii_entities if k in WRITTEN_KINDS),
            disclosures=tuple(
                Disclosure(d.name, tuple(d.speakers), tuple(d.channels), tuple(d.intents), DISCLOSURE_LINES[d.name])
                for d in playbook.disclosures
            ),
        )

    def plan_disclosures(self, r: random.Random, channel: str, intent: str) -> dict[str, str]:
        """Per disclosure required in such a conversation, who says it first: "bot", "agent" or "miss"."""
        plan = {}
        for d in self.disclosures:
            if not d.applies(channel, intent):
                continue
            if r.random() < MISS_RATE:
                plan[d.name] = "miss"
            elif "bot" in d.speakers and channel in (*BOT_CHANNELS, "voice"):
                plan[d.name] = "agent" if "agent" in d.speakers and r.random() < LEFT_TO_AGENT else "bot"
            else:
                plan[d.name] = "agent" if "agent" in d.speakers else "miss"
        return plan

    def plan(self, conv: Any, r: random.Random) -> None:
        """Choose the PII kinds `conv` (a generate.conversations.Conv) carries and who says each required disclosure
        in it: its pii_kinds and disclosure_plan."""
        roll = r.random()
        n_pii = 2 if roll < PII_RATES[0] else 1 if roll < PII_RATES[1] else 0
        conv.pii_kinds = tuple(r.sample(self.pii_kinds, min(n_pii, len(self.pii_kinds))))
        conv.disclosure_plan = self.plan_disclosures(r, conv.channel, conv.intent.name)

    def lines_for(self, plan: dict[str, str], speaker: str) -> list[str]:
        """The disclosure lines `speaker` says now (those `plan` gives it), marked said in `plan`."""
        said = [d for d in self.disclosures if plan.get(d.name) == speaker]
        for d in said:
            plan[d.name] = "said"
        return [d.line for d in said]
