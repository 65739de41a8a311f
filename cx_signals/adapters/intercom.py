"""Intercom conversations with their parts (REST API 2.x: `GET /conversations/{id}`), as transcripts.

A record may be a conversation (`"type": "conversation"`) or a list or search response (`"type":
"conversation.list"`, its `conversations`). The conversation's customer is its first contact (else the source
message's author when a user or lead). The source message (the conversation's opening) and every part with a body
become turns, by their author's type: admins are agents (their id the agent_id), bots are bots, users, leads and
contacts are customers, teams and anything else are system turns. Notes (`part_type` note, note_and_reopen, ...) never
become turns. Assignment parts give events: the first assignment is a handoff to an agent, a later one to another
assignee a transfer (an admin as agent_id, a team as queue). `source.type` gives the channel, `conversation_rating`
(1-5) the CSAT, a closed state the disposition resolved; times are Unix seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from cx_signals.adapters.conversations import (
    Conversation,
    Event,
    TranscriptAdapter,
    Turn,
    Unmappable,
    converted,
    identifier,
    plain_text,
    unmappable,
    utc,
)
from cx_signals.landing import LandingRecord

# Intercom's source types onto the contract's channels; `conversation` is the Messenger (chat), an unknown type too.
CHANNEL_BY_SOURCE = {
    "conversation": "chat",
    "email": "email",
    "phone_call": "voice",
    "phone_switch": "voice",
    "sms": "messaging",
    "whatsapp": "messaging",
    "push": "messaging",
    "facebook": "social",
    "instagram": "social",
    "twitter": "social",
}
DEFAULT_CHANNEL = "chat"
SPEAKER_BY_AUTHOR = {"admin": "agent", "bot": "bot", "user": "customer", "lead": "customer", "contact": "customer"}
CUSTOMER_TYPES = frozenset({"user", "lead", "contact"})


def _is_conversation(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") == "conversation" and "id" in value


class IntercomAdapter(TranscriptAdapter):
    """Intercom conversations with their parts, as transcripts (see the module's docstring)."""

    name = "intercom"

    def detect(self, first: Any) -> bool:
        """Whether the first record is an Intercom conversation or conversation list."""
        return _is_conversation(first) or (isinstance(first, dict) and first.get("type") == "conversation.list")

    def convert(self, records: Iterable[LandingRecord]) -> Iterator[LandingRecord]:
        """One conversation per Intercom conversation, at the line of the record holding it; one that cannot be
        mapped is quarantined with its reason."""
        for record in records:
            value = record.value
            if _is_conversation(value):
                found = [value]
            elif isinstance(value, dict) and isinstance(value.get("conversations"), list):
                found = value["conversations"]
            else:
                yield unmappable(record, "not an Intercom conversation or conversation list")
                continue
            for conversation in found:
                try:
                    if not _is_conversation(conversation):
                        raise Unmappable("an element of conversations is not a conversation")
                    yield converted(record.line, _conversation(conversation).record(self.consent_analytics))
                except Unmappable as exc:
                    yield unmappable(record, f"conversation {_id(conversation)}: {exc}")


def _id(value: Any) -> str | None:
    return identifier(value.get("id")) if isinstance(value, dict) else None


def _customer(conversation: dict[str, Any]) -> str | None:
    contacts = conversation.get("contacts")
    listed = contacts.get("contacts") if isinstance(contacts, dict) else contacts
    for contact in listed if isinstance(listed, list) else []:
        if isinstance(contact, dict) and identifier(contact.get("id")):
            return identifier(contact.get("id"))
    author = (conversation.get("source") or {}).get("author")
    if isinstance(author, dict) and author.get("type") in CUSTOMER_TYPES:
        return identifier(author.get("id"))
    return None


def _turn(part: dict[str, Any], turn_id: str, order: int) -> Turn | None:
    text = plain_text(part.get("body"))
    if text is None or "note" in str(part.get("part_type") or ""):
        return None  # no message, or an internal note: never a customer-facing turn
    author = part.get("author") if isinstance(part.get("author"), dict) else {}
    speaker = SPEAKER_BY_AUTHOR.get(str(author.get("type")), "system")
    ts = utc(part.get("created_at"), f"part {turn_id}'s created_at")
    return Turn(turn_id, speaker, ts, text, identifier(author.get("id")) if speaker == "agent" else None, order)


def _conversation(conversation: dict[str, Any]) -> Conversation:
    conversation_id = identifier(conversation.get("id"))
    customer = _customer(conversation)
    if conversation_id is None or customer is None:
        raise Unmappable("no contact (user or lead): its customer is unknown")
    source = conversation.get("source") if isinstance(conversation.get("source"), dict) else {}
    channel = CHANNEL_BY_SOURCE.get(str(source.get("type")), DEFAULT_CHANNEL)
    result = Conversation(conversation_id, customer, channel, utc(conversation.get("created_at"), "created_at"))
    result.queue = identifier(conversation.get("team_assignee_id"))
    rating = conversation.get("conversation_rating")
    score = rating.get("rating") if isinstance(rating, dict) else None
    result.csat = score if isinstance(score, int) and not isinstance(score, bool) and 1 <= score <= 5 else None
    result.disposition = "resolved" if conversation.get("state") == "closed" else None
    opening = _turn({**source, "created_at": conversation.get("created_at")}, f"{conversation_id}-source", 0)
    if opening is not None:
        result.turns.append(opening)
    parts = conversation.get("conversation_parts")
    parts = parts.get("conversation_parts") if isinstance(parts, dict) else parts
    assignee: str | None = None
    for order, part in enumerate(parts if isinstance(parts, list) else [], start=1):
        if not isinstance(part, dict):
            raise Unmappable(f"part {order} is not an object")
        part_id = identifier(part.get("id")) or f"{conversation_id}-part-{order}"
        turn = _turn(part, part_id, order)
        if turn is not None:
            result.turns.append(turn)
        target = part.get("assigned_to")
        if isinstance(target, dict) and identifier(target.get("id")):
            key = f"{target.get('type')}:{identifier(target.get('id'))}"
            if key != assignee:
                is_team = target.get("type") == "team"
                result.events.append(
                    Event(
                        "handoff_to_agent" if assignee is None else "transfer",
                        utc(part.get("created_at"), f"part {part_id}'s created_at"),
                        agent_id=None if is_team else identifier(target.get("id")),
                        queue=identifier(target.get("id")) if is_team else None,
                    )
                )
                assignee = key
    return result


ADAPTERS = (IntercomAdapter(),)
