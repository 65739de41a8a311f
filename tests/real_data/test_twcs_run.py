"""The TWCS sample (../shared/data/twcs_sample, CC BY-NC-SA: read in place, never copied into the project) through
`cx-signals run`, unchanged: threads' turn counts, first response times and repeat contacts match values computed
here from the CSV independently of the adapter (threads followed down `response_tweet_id`, where the adapter follows
`in_response_to_tweet_id` up)."""

from __future__ import annotations

import csv
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from cx_signals.categories import load_rules
from cx_signals.config import load_config
from tests.conftest import cx

SAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "twcs_sample" / "twcs_head5000.csv"

pytestmark = pytest.mark.real_data


def _when(text: str) -> datetime:
    return datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC).replace(tzinfo=None)


@pytest.fixture(scope="module")
def tweets() -> dict[str, dict[str, str]]:
    if not SAMPLE.is_file():
        pytest.skip(f"TWCS sample not found at {SAMPLE} (../shared/data is not part of a user's clone)")
    with SAMPLE.open(encoding="utf-8", newline="") as handle:
        return {row["tweet_id"]: row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def database(tweets, tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("twcs") / "landing"
    (landing / "transcripts").mkdir(parents=True)
    shutil.copyfile(SAMPLE, landing / "transcripts" / SAMPLE.name)
    db = landing.parent / "cx.duckdb"
    result = cx("run", "--landing", str(landing), "--db", str(db), timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "twcs" in result.stdout  # the summary names the format the file was read as
    return db


def _threads(tweets: dict[str, dict[str, str]]) -> list[list[dict[str, str]]]:
    """Threads rooted at an inbound tweet that answers nothing, all of whose inbound tweets are its author's: the
    root and every tweet reached through response_tweet_id that is in the sample."""
    threads = []
    for root in tweets.values():
        if root["in_response_to_tweet_id"] or root["inbound"] != "True":
            continue
        members, todo = [], [root["tweet_id"]]
        while todo:
            tweet = tweets.get(todo.pop())
            if tweet is None or tweet in members:
                continue
            members.append(tweet)
            todo.extend(i for i in tweet["response_tweet_id"].split(",") if i)
        if {t["author_id"] for t in members if t["inbound"] == "True"} == {root["author_id"]}:
            threads.append(members)
    return threads


def test_turn_counts_and_first_response_times_match_the_threads(tweets, database):
    threads = [t for t in _threads(tweets) if len(t) >= 3][:40]
    assert len(threads) == 40
    with duckdb.connect(str(database), read_only=True) as con:
        stored = dict(
            (cid, (n, frt))
            for cid, n, frt in con.execute(
                "SELECT conversation_id, n_turns, first_response_seconds FROM signals.conversation_signals"
            ).fetchall()
        )
    for thread in threads:
        first_customer = min(_when(t["created_at"]) for t in thread if t["inbound"] == "True")
        replies = [_when(t["created_at"]) for t in thread if t["inbound"] == "False"]
        later = [r for r in replies if r >= first_customer]
        expected = (min(later) - first_customer).total_seconds() if later else None
        assert stored[thread[0]["tweet_id"]] == (len(thread), expected), thread[0]["tweet_id"]


# Agent-only first response times of threads read by hand from the CSV (tweet id, author, created_at):
HAND_CHECKED = {
    # 8 115712 21:45:10 "is the worst customer service" -> 6 sprintcare 21:46:24 (then 5, 4, 3, 1, 2 follow)
    "8": 74.0,
    # 409 McDonalds 16:02:50 (a post, not a reply) -> 410 115809 20:49:10 "Treat me!" -> 598 McDonalds 22:13:45:
    # the clock starts at the customer's tweet, the brand's earlier post is no response
    "409": 1 * 3600 + 24 * 60 + 35.0,
    # 678 115846 20:06:57 -> 676 115846 21:39:25 -> 675 AmazonHelp 22:17:27: from the customer's first tweet
    "678": 2 * 3600 + 10 * 60 + 30.0,
    # 4246 SouthwestAir Oct 06 17:52:48 (a post) -> 4244 116711 Oct 23 20:24:42; no brand reply to 4244 in the file
    "4246": None,
}


def test_agent_first_response_times_of_threads_checked_by_hand(tweets, database):
    """TWCS threads have brand agents and no bots: the agent-only first response is the first response, no bot
    response is ever found, and four threads read by hand from the CSV give the expected times."""
    for tweet_id in ("8", "6", "409", "410", "598", "678", "676", "675", "4246", "4244"):
        assert tweet_id in tweets, f"tweet {tweet_id} of the hand-checked threads is not in the sample"
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "SELECT conversation_id, first_response_seconds, agent_first_response_seconds, bot_first_response_seconds"
            " FROM signals.conversation_signals"
        ).fetchall()
    stored = {cid: (any_first, agent_first, bot_first) for cid, any_first, agent_first, bot_first in rows}
    assert all(bot is None and agent == first for first, agent, bot in stored.values())
    assert sum(agent is not None for _, agent, _ in stored.values()) > 1000  # 1,350 of 1,483 on the sample
    assert {cid: stored[cid][1] for cid in HAND_CHECKED} == HAND_CHECKED


def test_sentiment_shifts_are_computed_for_conversations_with_customer_turns(database):
    with duckdb.connect(str(database), read_only=True) as con:
        total, shifted, reliable = con.execute(
            "SELECT count(*), count(sentiment_shift), count(*) FILTER (WHERE sentiment_shift_reliable)"
            " FROM signals.conversation_signals"
        ).fetchone()
    assert total == shifted > 1000  # every conversation has a customer turn, so a shift (1,483 on the sample)
    assert reliable > 0


def test_repeat_contacts_follow_each_customers_threads(tweets, database):
    """A contact is repeated by the same customer's next thread starting after it ended, within the repeat window,
    with the same intent (or either unknown): intents are the model's, read from the database; thread times and
    customers are computed here."""
    window = timedelta(days=load_config()["outcomes"]["repeat_window_days"])
    inbound: dict[str, set[str]] = {}
    for t in tweets.values():
        if t["inbound"] == "True":
            inbound.setdefault(t["author_id"], set()).add(t["tweet_id"])
    spans: dict[str, list[tuple[str, datetime, datetime]]] = {}
    covered: dict[str, set[str]] = {}
    for thread in _threads(tweets):
        times = [_when(t["created_at"]) for t in thread]
        spans.setdefault(thread[0]["author_id"], []).append((thread[0]["tweet_id"], min(times), max(times)))
        own = {t["tweet_id"] for t in thread if t["inbound"] == "True"}
        covered.setdefault(thread[0]["author_id"], set()).update(own)
    # customers with several threads, all of whose tweets are in threads of their own (none joins another's)
    repeaters = {c: s for c, s in spans.items() if len(s) >= 2 and inbound[c] == covered[c]}
    with duckdb.connect(str(database), read_only=True) as con:
        stored = {
            cid: (intent, repeat, nxt)
            for cid, intent, repeat, nxt in con.execute(
                "SELECT conversation_id, intent, repeat_contact, next_contact_at FROM metrics.contact_outcomes"
            ).fetchall()
        }
    checked = repeats = 0
    for threads in repeaters.values():
        for cid, _, end in threads:
            intent = stored[cid][0]
            matching = {other for other, _, _ in threads if "unknown" in (intent, stored[other][0])}
            matching |= {other for other, _, _ in threads if stored[other][0] == intent}
            later = [start for other, start, _ in threads if other in matching and end < start <= end + window]
            expected = min(later) if later else None
            assert stored[cid][1:] == (expected is not None, expected), cid
            checked += 1
            repeats += expected is not None
    assert checked >= 20 and repeats >= 5


def test_categories_and_qa_scores_on_real_threads(database):
    """Every thread is categorised by the bundled rules; the brands' apologies found by the compiled SQL are those a
    Python regex finds in the agent turns, at the same first turn; scores exist per brand-day; no thread has a bot."""
    rules = load_rules()
    apology = next(c for c in rules.categories if c.name == "agent_apology").when
    words = "|".join(r"\s+".join(map(re.escape, p.split())) for p in apology.phrases)
    with duckdb.connect(str(database), read_only=True) as con:
        threads = con.execute("SELECT count(*) FROM signals.conversation_signals").fetchone()[0]
        rows = con.execute("SELECT count(*), count(DISTINCT category) FROM signals.conversation_categories").fetchone()
        found = dict(
            con.execute(
                "SELECT conversation_id, first_turn_index FROM signals.conversation_categories "
                "WHERE category = 'agent_apology' AND matched"
            ).fetchall()
        )
        expected: dict[str, int] = {}
        for cid, index, text in con.execute(
            "SELECT conversation_id, turn_index, text FROM raw.turns WHERE speaker = 'agent' ORDER BY ALL"
        ).fetchall():
            if re.search(rf"(?i)\b(?:{words})\b", text or "") and cid not in expected:
                expected[cid] = index
        agent_days, low, high = con.execute(
            "SELECT count(*), min(score_mean), max(score_mean) FROM metrics.qa_scores"
        ).fetchone()
        bots = con.execute("SELECT count(*) FROM signals.bot_outcomes").fetchone()[0]
    assert rows == (threads * len(rules.categories), len(rules.categories))
    assert len(found) >= 100 and found == expected
    assert agent_days > 50 and 0 <= low <= high <= 1
    assert bots == 0
