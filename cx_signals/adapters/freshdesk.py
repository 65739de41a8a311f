"""Freshdesk API v2 tickets fetched with `?include=conversations`, as transcripts.

A record is a ticket (`GET /api/v2/tickets/{id}?include=conversations`: `requester_id`, `source`, `conversations`),
a JSON array of them, or an object listing them under `tickets` (or `results`, as the search API does). The ticket's
description is its first message, written by the requester when it was created (by the responding agent for an
outbound e-mail, source 10). Each conversation is a turn unless it is `private` (a private note never becomes a
turn): `incoming` true, or written by the requester (`user_id`), is the customer; any other author is an agent
(their user_id the agent_id). `source`'s numeric code gives the channel. Ratings, which Freshdesk returns separately
(`/satisfaction_ratings`), give the CSAT when the export puts them on the ticket as `satisfaction_ratings` (or
`satisfaction_rating`): the latest default question's score on Freshdesk's scale (103 best ... 100 neutral ... -103
worst) mapped linearly onto 1-5. Resolved (4) and closed (5) tickets are resolved; others leave the disposition
unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from cx_signals.adapters.conversations import (
    Conversation,
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

# Freshdesk's ticket source codes (Email 1, Portal 2, Phone 3, Forum 4, Twitter 5, Facebook 6, Chat 7, MobiHelp 8,
# Feedback Widget 9, Outbound Email 10, Ecommerce 11, Bot 12, WhatsApp 13) onto the contract's channels. The portal,
# feedback widget and e-commerce forms make asynchronous tickets, like e-mail; so does any other code.
CHANNEL_BY_SOURCE = {
    1: "email",
    2: "email",
    3: "voice",
    4: "social",
    5: "social",
    6: "social",
    7: "chat",
    8: "messaging",
    9: "email",
    10: "email",
    11: "email",
    12: "chat",
    13: "messaging",
}
DEFAULT_CHANNEL = "email"
OUTBOUND_EMAIL = 10
RESOLVED_STATUSES = frozenset({4, 5})
_TICKET_KEYS = frozenset({"id", "requester_id", "created_at"})


_LIST_KEYS = ("tickets", "results")  # an export's list, or the search API's response


def _listed(value: Any) -> list[Any] | None:
    if isinstance(value, dict):
        for key in _LIST_KEYS:
            if isinstance(value.get(key), list):
                return value[key]
    return None


def _is_ticket(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.keys() >= _TICKET_KEYS
        and ("conversations" in value or ("source" in value and "responder_id" in value))
    )


def _code(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def csat(score: Any) -> int | None:
    """A Freshdesk rating (103 best, 100 neutral, -103 worst; the 2- to 7-point scales use 103, 102, 101, 100,
    -101, -102, -103) on the contract's 1-5 scale: 3 + 2/3 of its level (-3..3), rounded; None if not a rating."""
    value = _code(score)
    if value is None or not 100 <= abs(value) <= 103:
        return None
    level = (abs(value) - 100) * (1 if value > 0 else -1)
    return round(3 + 2 * level / 3)


def _ratings_csat(ticket: dict[str, Any]) -> int | None:
    ratings = ticket.get("satisfaction_ratings", ticket.get("satisfaction_rating"))
    if isinstance(ratings, dict):
        ratings = [ratings]
    answered = [r for r in ratings if isinstance(r, dict)] if isinstance(ratings, list) else []
    answered.sort(key=lambda r: str(r.get("created_at") or ""))
    for rating in reversed(answered):  # the latest answer stands
        scores = rating.get("ratings")
        if isinstance(scores, dict) and csat(scores.get("default_question")) is not None:
            return csat(scores.get("default_question"))
    return None


class FreshdeskAdapter(TranscriptAdapter):
    """Freshdesk v2 tickets with their conversations, as transcripts (see the module's docstring)."""

    name = "freshdesk"

    def detect(self, first: Any) -> bool:
        """Whether the first record is a Freshdesk ticket (with conversations) or an object listing them."""
        listed = _listed(first)
        return _is_ticket(listed[0]) if listed else _is_ticket(first)

    def convert(self, records: Iterable[LandingRecord]) -> Iterator[LandingRecord]:
        """One conversation per ticket, at the line of the record holding it; a ticket that cannot be mapped is
        quarantined with its reason."""
        for record in records:
            tickets = _listed(record.value)
            for ticket in [record.value] if tickets is None else tickets:
                try:
                    if not _is_ticket(ticket):
                        raise Unmappable("not a Freshdesk ticket (id, requester_id, created_at, conversations)")
                    yield converted(record.line, _conversation(ticket).record(self.consent_analytics))
                except Unmappable as exc:
                    ticket_id = identifier(ticket.get("id")) if isinstance(ticket, dict) else None
                    yield unmappable(record, f"ticket {ticket_id}: {exc}" if ticket_id else str(exc))


def _conversation(ticket: dict[str, Any]) -> Conversation:
    ticket_id = identifier(ticket.get("id"))
    requester = identifier(ticket.get("requester_id"))
    if ticket_id is None or requester is None:
        raise Unmappable("no requester_id: its customer is unknown")
    opened = utc(ticket.get("created_at"), "created_at")
    source = _code(ticket.get("source"))
    conversation = Conversation(ticket_id, requester, CHANNEL_BY_SOURCE.get(source, DEFAULT_CHANNEL), opened)
    conversation.queue = identifier(ticket.get("group_id"))
    conversation.csat = _ratings_csat(ticket)
    conversation.disposition = "resolved" if _code(ticket.get("status")) in RESOLVED_STATUSES else None
    description = plain_text(ticket.get("description_text") or ticket.get("description"))
    if description is not None:
        responder = identifier(ticket.get("responder_id"))
        outbound = source == OUTBOUND_EMAIL
        conversation.turns.append(
            Turn(f"{ticket_id}-description", "agent" if outbound else "customer", opened, description)
        )
        if outbound:
            conversation.turns[0].agent_id = responder
    conversations = ticket.get("conversations") or []
    if not isinstance(conversations, list):
        raise Unmappable("conversations is not a list")
    for order, message in enumerate(conversations, start=1):
        if not isinstance(message, dict):
            raise Unmappable(f"conversation {order} is not an object")
        if message.get("private") is not False:
            continue  # a private note (or one not saying it is public) never becomes a turn
        message_id = identifier(message.get("id")) or f"{ticket_id}-conversation-{order}"
        author = identifier(message.get("user_id"))
        customer = message.get("incoming") is True or author == requester
        conversation.turns.append(
            Turn(
                message_id,
                "customer" if customer else "agent",
                utc(message.get("created_at"), f"conversation {message_id}'s created_at"),
                plain_text(message.get("body_text") or message.get("body")),
                None if customer else author,
                order,
            )
        )
    return conversation


ADAPTERS = (FreshdeskAdapter(),)
