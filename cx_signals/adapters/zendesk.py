"""Zendesk Support tickets with their comments, as transcripts.

A record may be a ticket holding its `comments` (one line of Zendesk's JSON export), a ticket response joined with its
comments or audits (`{"ticket": {...}, "comments": [...]}`, `{"ticket": {...}, "audit": {...}}`, the response of
creating a ticket), or a list response (`{"tickets": [...]}`), each optionally with the `users` Zendesk side-loads
(`?include=users`). A ticket without comments or audits has its `description` (Zendesk's first comment) as its one
turn, written by its submitter when it was created.

Public comments become turns; private ones (internal notes) never do, nor does a comment whose `public` flag is
missing. The requester is the customer. A comment's speaker is its author's role when the users are present (end-user:
customer; agent or admin: agent); else the requester is the customer and any other author an agent. A comment made by
a trigger or automation (`via.channel` rule) or with no author is a system turn. `via.channel` (a via type or its
numeric id) gives the channel; the satisfaction rating gives CSAT: good 5, bad 1 (Zendesk's two-point scale at the
ends of the contract's 1-5). Solved and closed tickets are resolved; other statuses leave the disposition unknown.
Audits, when present, give transfers: an assignee or group change of an already assigned ticket.
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

# Zendesk via types (and their numeric via ids) onto the contract's channels. A ticket is asynchronous and threaded
# like e-mail, so web forms, the API, the help center and any type not listed here are e-mail.
CHANNEL_BY_VIA = {
    "email": "email",
    "mail": "email",
    4: "email",
    "web": "email",
    "web_form": "email",
    0: "email",
    "chat": "chat",
    29: "chat",
    "chat_transcript": "chat",
    "native_messaging": "messaging",
    "mobile_sdk": "messaging",
    "sms": "messaging",
    57: "messaging",
    "whatsapp": "messaging",
    "line": "messaging",
    "wechat": "messaging",
    "telegram": "messaging",
    "viber": "messaging",
    "any_channel": "messaging",
    "voice": "voice",
    "phone": "voice",
    "voicemail": "voice",
    "phone_call_inbound": "voice",
    44: "voice",
    "phone_call_outbound": "voice",
    45: "voice",
    46: "voice",
    "twitter": "social",
    "twitter_dm": "social",
    "twitter_favorite": "social",
    23: "social",
    26: "social",
    "facebook": "social",
    "facebook_post": "social",
    "facebook_message": "social",
    38: "social",
    41: "social",
    "instagram_dm": "social",
}
DEFAULT_CHANNEL = "email"
CSAT_BY_SCORE = {"good": 5, "bad": 1}  # "offered" / "unoffered": asked but not answered, or never asked
RESOLVED_STATUSES = frozenset({"solved", "closed"})
AGENT_ROLES = frozenset({"agent", "admin"})
_AUTOMATED_VIA = frozenset({"rule", 8, "system"})
_TICKET_KEYS = frozenset({"requester_id", "created_at"})
_ZENDESK_KEYS = frozenset({"via", "submitter_id", "comments"})


def _is_ticket(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.keys() >= _TICKET_KEYS
        and bool(_ZENDESK_KEYS & value.keys())
        and "conversations" not in value  # Freshdesk's tickets also have requester_id and created_at
    )


def _via_channel(via: Any) -> Any:
    return via.get("channel") if isinstance(via, dict) else None


def _channel(ticket: dict[str, Any]) -> str:
    via = _via_channel(ticket.get("via"))
    return CHANNEL_BY_VIA.get(via.strip().lower() if isinstance(via, str) else via, DEFAULT_CHANNEL)


def _csat(rating: Any) -> int | None:
    if not isinstance(rating, dict):
        return None
    score = str(rating.get("score") or "").lower()
    return next((value for prefix, value in CSAT_BY_SCORE.items() if score.startswith(prefix)), None)


class ZendeskAdapter(TranscriptAdapter):
    """Zendesk tickets with comments, as transcripts (see the module's docstring)."""

    name = "zendesk"

    def detect(self, first: Any) -> bool:
        """Whether the first record is a Zendesk ticket, a ticket response or a tickets list response."""
        if not isinstance(first, dict):
            return False
        if _is_ticket(first) or _is_ticket(first.get("ticket")):
            return True
        tickets = first.get("tickets")
        return isinstance(tickets, list) and bool(tickets) and _is_ticket(tickets[0])

    def convert(self, records: Iterable[LandingRecord]) -> Iterator[LandingRecord]:
        """One conversation per ticket, at the line of the record holding it; a ticket that cannot be mapped is
        quarantined with its reason (a list response's other tickets still load)."""
        for record in records:
            for ticket, comments, audits, users in self._tickets(record.value):
                if ticket is None:
                    yield unmappable(record, "not a Zendesk ticket, ticket response or tickets list response")
                    continue
                try:
                    conversation = _conversation(ticket, comments, audits, users)
                    yield converted(record.line, conversation.record(self.consent_analytics))
                except Unmappable as exc:
                    yield unmappable(record, f"ticket {ticket.get('id')}: {exc}")

    @staticmethod
    def _tickets(
        value: Any,
    ) -> Iterator[tuple[dict[str, Any] | None, list[Any] | None, list[Any], dict[str, str]]]:
        """(ticket, its comments or None, its audits, role by user id) of each ticket the record holds."""
        if not isinstance(value, dict):
            yield None, None, [], {}
            return
        users = value.get("users")
        roles = {
            str(u["id"]): str(u.get("role") or "")
            for u in (users if isinstance(users, list) else [])
            if isinstance(u, dict) and u.get("id") is not None
        }
        audits = value.get("audits")
        audits = audits if isinstance(audits, list) else []
        if isinstance(value.get("audit"), dict):
            audits = [*audits, value["audit"]]
        if _is_ticket(value):
            yield value, value.get("comments"), audits, roles
        elif _is_ticket(value.get("ticket")):
            yield value["ticket"], value.get("comments", value["ticket"].get("comments")), audits, roles
        elif isinstance(value.get("tickets"), list):
            for ticket in value["tickets"]:
                if not _is_ticket(ticket):
                    yield None, None, [], {}
                    continue
                own = [a for a in audits if isinstance(a, dict) and a.get("ticket_id") == ticket.get("id")]
                yield ticket, ticket.get("comments"), own, roles
        else:
            yield None, None, [], {}


def _conversation(
    ticket: dict[str, Any], comments: list[Any] | None, audits: list[Any], roles: dict[str, str]
) -> Conversation:
    ticket_id = identifier(ticket.get("id"))
    if ticket_id is None:
        raise Unmappable("the ticket has no id")
    requester = identifier(ticket.get("requester_id"))
    if requester is None:
        raise Unmappable("no requester_id: its customer is unknown")
    opened = utc(ticket.get("created_at"), "created_at")
    conversation = Conversation(ticket_id, requester, _channel(ticket), opened)
    conversation.queue = identifier(ticket.get("group_id"))
    conversation.csat = _csat(ticket.get("satisfaction_rating"))
    status = str(ticket.get("status") or "").lower()
    conversation.disposition = "resolved" if status in RESOLVED_STATUSES else None
    if comments is None:
        comments = [
            {**event, "created_at": audit.get("created_at"), "via": event.get("via", audit.get("via"))}
            for audit in audits
            if isinstance(audit, dict)
            for event in audit.get("events") or []
            if isinstance(event, dict) and event.get("type") in ("Comment", "VoiceComment")
        ]
    if not isinstance(comments, list):
        raise Unmappable("comments is not a list")
    if comments:
        for order, comment in enumerate(comments):
            turn = _turn(comment, order, requester, roles)
            if turn is not None:
                conversation.turns.append(turn)
    elif (description := plain_text(ticket.get("description"))) is not None:
        author = identifier(ticket.get("submitter_id")) or requester
        speaker = _speaker(author, requester, roles)
        agent = author if speaker == "agent" else None
        conversation.turns.append(Turn(f"{ticket_id}-description", speaker, opened, description, agent))
    conversation.events = _transfers(audits)
    return conversation


def _speaker(author: str | None, requester: str, roles: dict[str, str]) -> str:
    if author is None or author == "-1":  # -1: Zendesk's own system user
        return "system"
    role = roles.get(author)
    if role is not None and role in AGENT_ROLES:
        return "agent"
    if role is not None and role == "end-user":
        return "customer"
    return "customer" if author == requester else "agent"


def _turn(comment: Any, order: int, requester: str, roles: dict[str, str]) -> Turn | None:
    if not isinstance(comment, dict):
        raise Unmappable(f"comment {order + 1} is not an object")
    if comment.get("public") is not True:
        return None  # a private comment is an internal note: never a customer-facing turn
    comment_id = identifier(comment.get("id")) or f"comment-{order + 1}"
    ts = utc(comment.get("created_at"), f"comment {comment_id}'s created_at")
    author = identifier(comment.get("author_id"))
    automated = _via_channel(comment.get("via")) in _AUTOMATED_VIA
    speaker = "system" if automated else _speaker(author, requester, roles)
    text = plain_text(comment.get("plain_body") or comment.get("body") or comment.get("html_body"))
    return Turn(comment_id, speaker, ts, text, author if speaker == "agent" else None, order)


def _transfers(audits: list[Any]) -> list[Event]:
    events = []
    for audit in audits:
        if not isinstance(audit, dict):
            continue
        for event in audit.get("events") or []:
            if not (isinstance(event, dict) and event.get("type") == "Change"):
                continue
            field, previous = event.get("field_name"), identifier(event.get("previous_value"))
            if field not in ("assignee_id", "group_id") or previous is None:
                continue
            value = identifier(event.get("value"))
            if value is None or value == previous:
                continue
            ts = utc(event.get("created_at", audit.get("created_at")), "an audit's created_at")
            if field == "assignee_id":
                events.append(Event("transfer", ts, agent_id=value))
            else:
                events.append(Event("transfer", ts, queue=value))
    return events


ADAPTERS = (ZendeskAdapter(),)
