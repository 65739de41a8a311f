"""Twitter/X customer-support threads in the layout of the "Customer Support on Twitter" (TWCS) dataset: one row per
tweet with `tweet_id, author_id, inbound, created_at, text, response_tweet_id, in_response_to_tweet_id`.

A thread (the tweets reachable from a root through `in_response_to_tweet_id`) becomes a conversation on the `social`
channel, identified by its root tweet's id. Inbound tweets are customer turns; brand replies (inbound False) are
agent turns, the brand's author_id as agent_id; the first brand to reply is the conversation's queue.

One customer per conversation: a thread with several inbound authors (another customer joining, or two accounts the
dataset marks inbound replying to each other) gives one conversation per author, of their tweets in the thread and the
brand replies to them, identified by their first tweet in it; a brand tweet belongs to the conversation of the tweet it
answers. A tweet whose parent is not in the file (the
dataset is cut, or the thread continues from another file) roots its own thread. A thread with no inbound tweet at
all (brand replies whose customer tweet is missing) has no customer: its tweets are quarantined with that reason, as
is a row with no tweet_id, a repeated tweet_id, an `inbound` that is neither True nor False or an unreadable time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cx_signals.adapters.conversations import (
    Conversation,
    TranscriptAdapter,
    Turn,
    Unmappable,
    converted,
    identifier,
    unmappable,
)
from cx_signals.landing import LandingRecord

COLUMNS = frozenset({"tweet_id", "author_id", "inbound", "created_at", "text", "in_response_to_tweet_id"})
_TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"  # Tue Oct 31 22:10:47 +0000 2017
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


@dataclass
class _Tweet:
    record: LandingRecord
    tweet_id: str
    author_id: str
    inbound: bool
    created_at: datetime
    text: str | None
    parent: str | None


def _created_at(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value or "").strip()
    try:
        return datetime.strptime(text, _TWITTER_TIME).astimezone(UTC)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Unmappable(f"created_at {text[:60]!r} is not a Twitter or ISO-8601 time") from exc
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _inbound(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Unmappable(f"inbound {str(value)[:20]!r} is neither True nor False")


def _tweet_id(value: Any) -> str | None:
    # a Parquet or pandas export may hold ids as floats (1.0) when a column has gaps
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return identifier(value)


def _tweet(record: LandingRecord) -> _Tweet:
    row = record.value
    tweet_id = _tweet_id(row.get("tweet_id"))
    if tweet_id is None:
        raise Unmappable("tweet_id is missing")
    author = identifier(row.get("author_id"))
    if author is None:
        raise Unmappable(f"tweet {tweet_id} has no author_id")
    text = row.get("text")
    return _Tweet(
        record,
        tweet_id,
        author,
        _inbound(row.get("inbound")),
        _created_at(row.get("created_at")),
        str(text) if text not in (None, "") else None,
        _tweet_id(row.get("in_response_to_tweet_id")),
    )


class TwcsAdapter(TranscriptAdapter):
    """Twitter support threads in the TWCS layout, as transcripts (see the module's docstring)."""

    name = "twcs"

    def detect(self, first: Any) -> bool:
        """Whether the first row has TWCS's columns."""
        return isinstance(first, dict) and {str(k).strip() for k in first} >= COLUMNS

    def convert(self, records: Iterable[LandingRecord]) -> Iterator[LandingRecord]:
        """The file's threads as conversations, each at the line of its root tweet; tweets that cannot be read or
        belong to no customer's thread are quarantined with their reason."""
        tweets: dict[str, _Tweet] = {}
        for record in records:
            try:
                if not isinstance(record.value, dict):
                    raise Unmappable("not a row of the TWCS layout")
                tweet = _tweet(record)
            except Unmappable as exc:
                yield unmappable(record, str(exc))
                continue
            if tweet.tweet_id in tweets:
                first = tweets[tweet.tweet_id].record.line
                yield unmappable(record, f"tweet_id {tweet.tweet_id} repeats the tweet of line {first}")
                continue
            tweets[tweet.tweet_id] = tweet
        yield from self._threads(tweets)

    def _threads(self, tweets: dict[str, _Tweet]) -> Iterator[LandingRecord]:
        children: dict[str, list[_Tweet]] = {}
        roots = []
        for tweet in tweets.values():
            if tweet.parent is not None and tweet.parent in tweets and tweet.parent != tweet.tweet_id:
                children.setdefault(tweet.parent, []).append(tweet)
            else:
                roots.append(tweet)
        order = {tweet_id: n for n, tweet_id in enumerate(tweets)}
        for replies in children.values():
            replies.sort(key=lambda t: (t.created_at, order[t.tweet_id]))
        reached: set[str] = set()
        conversations: list[tuple[_Tweet, Conversation | None, list[_Tweet]]] = []
        for root in roots:
            self._walk(root, children, conversations, reached)
        for tweet in tweets.values():
            if tweet.tweet_id not in reached:  # only a cycle of replies is unreachable from a root
                yield unmappable(tweet.record, f"tweet {tweet.tweet_id} is in a cycle of in_response_to_tweet_id")
        for root, conversation, members in sorted(conversations, key=lambda c: c[0].record.line):
            if conversation is None:
                ids = ", ".join(t.tweet_id for t in members)
                missing = f" (it answers tweet {root.parent}, not in this file)" if root.parent else ""
                for tweet in members:
                    yield unmappable(tweet.record, f"thread of tweets {ids} has no inbound (customer) tweet{missing}")
                continue
            for tweet in members:
                conversation.turns.append(
                    Turn(
                        tweet.tweet_id,
                        "customer" if tweet.inbound else "agent",
                        tweet.created_at,
                        tweet.text,
                        None if tweet.inbound else tweet.author_id,
                        order[tweet.tweet_id],
                    )
                )
            agents = [t for t in sorted(members, key=lambda t: t.created_at) if not t.inbound]
            conversation.queue = agents[0].author_id if agents else None
            yield converted(root.record.line, conversation.record(self.consent_analytics))

    @staticmethod
    def _walk(
        root: _Tweet,
        children: dict[str, list[_Tweet]],
        conversations: list[tuple[_Tweet, Conversation | None, list[_Tweet]]],
        reached: set[str],
    ) -> None:
        """Depth-first from `root` (a stack, not recursion: threads can be thousands of tweets deep): an inbound
        tweet joins its author's conversation in this thread (the first one opens it), a brand tweet the conversation
        of the tweet it answers. Brand tweets before any inbound one wait in a conversation that the first inbound
        author below them claims."""
        by_customer: dict[str, int] = {}
        stack: list[tuple[_Tweet, int | None]] = [(root, None)]
        while stack:
            tweet, index = stack.pop()
            reached.add(tweet.tweet_id)
            if tweet.inbound and tweet.author_id in by_customer:
                index = by_customer[tweet.author_id]
            elif tweet.inbound and index is not None and conversations[index][1] is None:
                start, _, members = conversations[index]  # claim the brand tweets waiting above
                conversations[index] = (start, Conversation(start.tweet_id, tweet.author_id, "social"), members)
                by_customer[tweet.author_id] = index
            elif tweet.inbound or index is None:
                opened = Conversation(tweet.tweet_id, tweet.author_id, "social") if tweet.inbound else None
                conversations.append((tweet, opened, []))
                index = len(conversations) - 1
                if tweet.inbound:
                    by_customer[tweet.author_id] = index
            conversations[index][2].append(tweet)
            for child in reversed(children.get(tweet.tweet_id, [])):
                if child.tweet_id not in reached:
                    stack.append((child, index))


ADAPTERS = (TwcsAdapter(),)
