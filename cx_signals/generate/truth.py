"""The planted truth: `_truth/` schemas, its README, and the truth rows of repeat chains and sessions."""

from __future__ import annotations

import pyarrow as pa

from cx_signals.generate.conversations import Conv
from cx_signals.generate.friction_cases import CASES, CASES_README
from cx_signals.generate.params import SECOND
from cx_signals.generate.sessions import FRICTION_COUNTS, PlacedSession, had_friction

TIMESTAMP = pa.timestamp("us", tz="UTC")
TRUTH_CONVERSATIONS_SCHEMA = pa.schema(
    [("conversation_id", pa.string()), ("customer_id", pa.string()), ("channel", pa.string()),
     ("intent", pa.string()), ("started_at", TIMESTAMP), ("ended_at", TIMESTAMP), ("contained", pa.bool_()),
     ("escalated", pa.bool_()), ("abandoned", pa.bool_()), ("repeat_contact", pa.bool_()),
     ("chain_id", pa.string()), ("chain_position", pa.int32()), ("chain_resolved", pa.bool_()),
     ("resolving_conversation_id", pa.string()), ("time_to_resolve_seconds", pa.float64()),
     ("escalation_requested", pa.bool_()), ("repetition", pa.bool_()), ("transfers", pa.int32()),
     ("handoffs", pa.int32()), ("hold_seconds", pa.float64()), ("consent_analytics", pa.bool_()),
     ("csat", pa.int32()), ("pre_contact_friction", pa.bool_()), ("post_contact_friction", pa.bool_()),
     ("bot_outcome", pa.string()), ("bot_loops", pa.int32())]
)  # fmt: skip
TRUTH_SESSIONS_SCHEMA = pa.schema(
    [("session_id", pa.string()), ("anonymous_id", pa.string()), ("customer_id", pa.string()),
     ("session_start", TIMESTAMP), ("session_end", TIMESTAMP), *((name, pa.int32()) for name in FRICTION_COUNTS),
     ("has_rage_click", pa.bool_()), ("had_friction", pa.bool_()), ("friction_case", pa.string()),
     ("case_frustrated", pa.bool_()), ("case_page_answered", pa.bool_())]
)  # fmt: skip
TRUTH_PII_SCHEMA = pa.schema(
    [("conversation_id", pa.string()), ("turn_id", pa.string()), ("pii_type", pa.string()), ("value", pa.string())]
)
TRUTH_SCHEMAS = {
    "conversations": TRUTH_CONVERSATIONS_SCHEMA,
    "sessions": TRUTH_SESSIONS_SCHEMA,
    "pii": TRUTH_PII_SCHEMA,
}
# Columns that hold a conversation id in the output and the conversation's serial in the spool.
CONVERSATION_REFS = ("conversation_id", "chain_id", "resolving_conversation_id")


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
- pre_contact_friction: the customer has a friction item (below) of a session that had friction
  (had_friction, below) timestamped in [started_at - 60 min, started_at).
- post_contact_friction: the customer has such a friction item in (ended_at, ended_at + 24 h].
- bot_outcome (null without a bot or IVR turn: email, social): escalated (handed to an agent);
  confirmed_resolution (the customer's last turn thanks the bot for a fix that worked); assumed_resolution (chat
  and messaging: the customer takes the bot's fix without saying whether it worked, "OK, I'll try that.", the bot
  closes, and the customer does not come back: with a repeat contact the same ending is failed); abandoned (the
  customer left after the bot's fix); failed (the customer said the fix did not help and the bot gave up, or gave
  the same fix again).
- bot_loops: bot turns repeating an earlier bot turn of the conversation word for word: the bot asking a second
  time to rephrase a restated request, or giving the same fix again after the customer said it did not help.
  Every other bot turn differs from the conversation's earlier bot turns.

A friction item is a rage click burst (its first click), a form_error event, an error click (the click), a
crash or a slow page (the latency row). Every session holding one scores >= 3.0 with the default
friction.score_weights (one with a single rage burst and nothing else has no friction all the same), and no
such session overlaps a window edge (started_at - 60 min, ended_at + 24 h, or another contact) by less than
5 minutes, so session-level and event-level readings agree.

## sessions.parquet (one row per web/app session)

- session_id: null for trackers that send none; sessionise those events per anonymous_id on 30 minutes of
  inactivity (sessions of one device are always > 45 min apart, gaps inside a session are < 30 min).
- anonymous_id, customer_id (null for anonymous visitors), session_start and session_end (first and last
  behavioural event; telemetry rows may fall after the last event, e.g. a crash).
- rage_click_bursts: maximal runs of >= 3 consecutive clicks in the session, each < 1000 ms and < 30 px
  (|dx| + |dy|) from the previous click. rage_clicks: clicks inside those runs.
- dead_clicks: clicks outside rage bursts followed by no page_view, page_leave, dom_change, scroll or input
  event of the same session within 2500 ms (outside the friction cases every rage-burst click is also answered
  within 2500 ms).
- error_clicks: clicks followed within 1000 ms by a telemetry row of kind 'error' with the same session_id.
- form_errors: form_error events. help_views: help_view events.
- quick_backs: a page_view of page B whose next page_view is the page viewed before B, less than 10 s later.
- slow_pages: telemetry kind 'latency' with duration_ms > 4000 (others stay <= 1500).
- crashes: telemetry kind 'crash'. errors: telemetry kind 'error' (error clicks plus a few background
  errors, which come > 1.6 s after any click).
- has_rage_click: rage_click_bursts > 0.
- had_friction: the score (sum of the default friction.score_weights x counts, rage bursts for rage_clicks)
  is >= 3.0, and the session has no rage burst, two or more, or another part of the score above zero (a single
  rage burst alone is no friction).
- friction_case: the friction case the session was planted for (below), null for other sessions.
- case_frustrated: for a rage or session case, whether the user in the scenario was frustrated; null otherwise.
- case_page_answered: for a dead case, whether the page answered the click in the scenario; null otherwise.

Decoys that count as nothing: double clicks (exactly two quick clicks), quick clicks >= 60 px apart, and
repeated clicks 1.6-2.4 s apart. Ordinary clicks are >= 1.6 s apart and answered within 800 ms.

Rage bursts are not runs that hold a click on a text input, a stepper or a next/previous control (by the
events' element_tag, element_type, element_role, element_text) or a selection_change between their first and
last click; a dead click is not one on a link or form field, nor one followed by a scroll or selection_change
within 100 ms (only page_view, page_leave, dom_change and input count up to 2500 ms).
Sessionless sessions carry no error, crash or slow-page telemetry.

## Friction cases (sessions.parquet rows with a friction_case)

About 30% of customers get one session of a single page holding one case; nothing else in it is friction. The
name's prefix is the rule it tests: rage (rage_click_bursts > 0), dead (dead_clicks > 0), session
(had_friction). Two readings of each case session:

- what happened, the scenario's truth, set by the case and never by a rule: case_frustrated (rage and session
  cases: the user was frustrated) or case_page_answered (dead cases: false when the page ignored the click, the
  dead click to find). Score a rule against this to see its real trade-offs: near a threshold it misses some
  frustrated users and flags some calm ones.
- what the rules as specified find: the session's counts and had_friction (as for every other session). Score
  the pipeline against these to check that it implements the rules.

Each case below: its name, (rule, scenario truth): scenario.

{cases}

## pii.parquet (one row per PII string planted in a customer turn)

- conversation_id, turn_id, pii_type (email | phone | card | iban), value (exactly as in the text). Cards
  pass the Luhn check, IBANs the mod-97 check; phone numbers are fictional (Ofcom 020 7946 0xxx, US
  555-01xx). Order numbers ("order 4471-2201"), amounts ("$49.99"), card last four digits and email
  reference numbers ("NW-123456") are not PII.
""".replace("{cases}", CASES_README)


def conversation_truth(chain: list[Conv], customer_id: str, consent: bool) -> list[dict[str, object]]:
    """Truth rows of one repeat chain's conversations (one customer's), in chain order; conversations are
    referred to by their serials, which the writer turns into ids."""
    first, last = chain[0], chain[-1]
    resolved = last.disposition == "resolved"
    rows: list[dict[str, object]] = []
    for i, conv in enumerate(chain):
        speakers = {turn["speaker"] for turn in conv.turns}
        kinds = [event["event_type"] for event in conv.events]
        escalated = "agent" in speakers or "handoff_to_agent" in kinds
        rows.append(
            {
                "conversation_id": conv.serial,
                "customer_id": customer_id,
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
                "consent_analytics": consent,
                "csat": conv.csat,
                "pre_contact_friction": conv.pre_friction,
                "post_contact_friction": conv.post_friction,
                "bot_outcome": "failed"
                if conv.bot_outcome == "assumed_resolution" and i < len(chain) - 1
                else conv.bot_outcome,
                "bot_loops": conv.bot_loops,
            }
        )
    return rows


def pii_truth(conv: Conv) -> list[dict[str, object]]:
    """Truth rows of the PII planted in one conversation (referred to by its serial)."""
    return [
        {"conversation_id": conv.serial, "turn_id": turn_id, "pii_type": kind, "value": value}
        for turn_id, kind, value in conv.pii
    ]


def session_truth(s: PlacedSession) -> dict[str, object]:
    """The truth row of one placed session."""
    return {
        "session_id": s.session_id,
        "anonymous_id": s.device.anonymous_id,
        "customer_id": s.customer_id,
        "session_start": s.start * 1_000,
        "session_end": s.end * 1_000,
        **s.counts,
        "has_rage_click": s.counts["rage_click_bursts"] > 0,
        "had_friction": had_friction(s.counts),
        "friction_case": s.case,
        "case_frustrated": CASES[s.case].positive if s.case and CASES[s.case].rule != "dead" else None,
        "case_page_answered": not CASES[s.case].positive if s.case and CASES[s.case].rule == "dead" else None,
    }
