"""What the transcript adapters (TWCS, Zendesk, Intercom, Freshdesk) share: timestamps to UTC text, HTML bodies to
plain text, a conversation assembled from its turns and events in the transcripts contract's shape, and the
quarantine record of a source record that cannot be mapped.

Help-desk and Twitter exports carry no analytics consent. Rather than inventing one per record, every conversation an
adapter builds gets config's `landing.transcripts.consent_analytics` (true by default; docs/adapters-transcripts.md
says why).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any, Self

from cx_signals.adapters.base import UNMAPPABLE_RULE
from cx_signals.contracts import parse_timestamp
from cx_signals.landing import LandingRecord

CHANNELS = frozenset({"chat", "voice", "email", "messaging", "social"})

_TAG = re.compile(r"<[^>]*>")
_BLOCK_END = re.compile(r"</?(p|div|br|li|h[1-6]|tr|blockquote)\b[^>]*>", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


class Unmappable(ValueError):
    """A source record that cannot become a contract record; the message says why, for its quarantine row."""


def utc(value: Any, what: str) -> datetime:
    """`value` (ISO-8601 text with or without an offset, epoch seconds or milliseconds) as an aware UTC datetime;
    naive text is taken to be UTC. Raises Unmappable naming `what` when it is missing or no timestamp."""
    if value is None or value == "":
        raise Unmappable(f"{what} is missing")
    try:
        return parse_timestamp(value).replace(tzinfo=UTC)
    except (ValueError, TypeError, OverflowError) as exc:
        raise Unmappable(f"{what} {str(value)[:60]!r} is not a timestamp") from exc


def iso(moment: datetime) -> str:
    """An aware datetime as ISO-8601 UTC text ending in Z (seconds, or microseconds when it has them)."""
    text = moment.astimezone(UTC).replace(tzinfo=None).isoformat()
    return f"{text}Z"


def plain_text(body: Any) -> str | None:
    """The text of an HTML (or plain) message body: tags dropped, block ends as spaces, entities decoded, runs of
    whitespace as one space; None when nothing is left."""
    if body is None:
        return None
    text = html.unescape(_TAG.sub("", _BLOCK_END.sub(" ", str(body))))
    text = _SPACES.sub(" ", text).strip()
    return text or None


def identifier(value: Any) -> str | None:
    """An id of the source (a number or text) as text, None when absent or blank."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


@dataclass
class Turn:
    """One turn being assembled; `order` breaks ties between turns of the same instant (their source order)."""

    turn_id: str
    speaker: str
    ts: datetime
    text: str | None
    agent_id: str | None = None
    order: int = 0


@dataclass
class Event:
    """One in-conversation event being assembled."""

    event_type: str
    ts: datetime
    agent_id: str | None = None
    queue: str | None = None


@dataclass
class Conversation:
    """A conversation being assembled from a source record; `record` gives its contract record."""

    conversation_id: str
    customer_id: str
    channel: str
    opened_at: datetime | None = None
    turns: list[Turn] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    queue: str | None = None
    csat: int | None = None
    disposition: str | None = None

    def record(self, consent_analytics: bool) -> dict[str, Any]:
        """The transcripts contract record, with `consent_analytics`: turns and events in time order (source order
        on ties), started at the earliest of the opening time, turns and events, ended at the latest of them. Raises
        Unmappable when the conversation has no time at all."""
        turns = sorted(self.turns, key=lambda t: (t.ts, t.order))
        events = sorted(self.events, key=lambda e: e.ts)
        moments = [t.ts for t in turns] + [e.ts for e in events]
        if self.opened_at is not None:
            moments.append(self.opened_at)
        if not moments:
            raise Unmappable(f"conversation {self.conversation_id} has no timestamp")
        if self.channel not in CHANNELS:
            raise ValueError(f"channel {self.channel!r} is not one of the contract's")
        return {
            "conversation_id": self.conversation_id,
            "customer_id": self.customer_id,
            "channel": self.channel,
            "queue": self.queue,
            "started_at": iso(min(moments)),
            "ended_at": iso(max(moments)),
            "consent_analytics": consent_analytics,
            "disposition": self.disposition,
            "csat": self.csat,
            "intent": None,
            "turns": [
                {"turn_id": t.turn_id, "speaker": t.speaker, "agent_id": t.agent_id, "ts": iso(t.ts), "text": t.text}
                for t in turns
            ],
            "events": [
                {"event_type": e.event_type, "ts": iso(e.ts), "agent_id": e.agent_id, "queue": e.queue} for e in events
            ],
        }


@cache
def _configured_consent() -> bool:
    from cx_signals.config import load_config  # config validation imports the adapters: load it when first used

    return bool(load_config()["landing"]["transcripts"]["consent_analytics"])


class TranscriptAdapter:
    """What every transcript adapter shares: its source, and the analytics consent its conversations get (the
    exports carry none): `consent_analytics`, else the default config's `landing.transcripts.consent_analytics`.
    `configured` gives the adapter a run's `landing.transcripts` settings (`cx_signals.adapters.registry`)."""

    source = "transcripts"

    def __init__(self, consent_analytics: bool | None = None) -> None:
        self._consent = consent_analytics

    @property
    def consent_analytics(self) -> bool:
        """The consent given to every conversation this adapter converts."""
        return _configured_consent() if self._consent is None else self._consent

    def configured(self, settings: dict[str, Any]) -> Self:
        """This adapter with a run's `landing.transcripts` settings."""
        return type(self)(settings.get("consent_analytics"))


def converted(line: int, record: dict[str, Any]) -> LandingRecord:
    """The landing record of a converted contract record, kept at the `line` of its source record."""
    return LandingRecord(line, json.dumps(record, ensure_ascii=False, separators=(",", ":")), record)


def unmappable(source: LandingRecord, reason: str) -> LandingRecord:
    """The quarantine record of a source record that cannot be mapped: its own payload, with `reason`."""
    return LandingRecord(source.line, source.payload, None, reason, UNMAPPABLE_RULE)
