"""The TWCS adapter on a synthetic fixture (tests/data/adapters/twcs_threads.csv: written for these tests, no tweet
of the real dataset) and on generated thread forests."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cx_signals.adapters.base import UNMAPPABLE_RULE
from cx_signals.adapters.twcs import TwcsAdapter
from cx_signals.config import load_config
from cx_signals.contracts import TimeBounds, input_contracts, validate_record
from cx_signals.landing import LandingRecord

FIXTURE = Path(__file__).parents[1] / "data" / "adapters" / "twcs_threads.csv"
CONFIG = load_config()
BOUNDS = TimeBounds.from_config(CONFIG, datetime(2026, 11, 1))
LIMITS = {k: CONFIG["ingest"][k] for k in ("max_text_chars", "placeholder_ids")}
HEADER = ["tweet_id", "author_id", "inbound", "created_at", "text", "response_tweet_id", "in_response_to_tweet_id"]


def rows_as_read(path: Path) -> list[LandingRecord]:
    """The CSV's rows as the landing reader gives them: dicts keyed by the header, lines counted from the header."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [LandingRecord(n, json.dumps(row), row) for n, row in enumerate(csv.DictReader(handle), start=2)]


def convert(records):
    out = list(TwcsAdapter().convert(records))
    loaded = {r.value["conversation_id"]: r.value for r in out if r.error is None}
    rejected = {r.line: r.error for r in out if r.error is not None}
    assert all(r.rule == UNMAPPABLE_RULE for r in out if r.error is not None)
    return loaded, rejected


def test_detects_the_twcs_header_only():
    adapter = TwcsAdapter()
    assert adapter.detect(dict.fromkeys(HEADER, ""))
    assert adapter.detect({f" {k} ": "" for k in HEADER})
    assert not adapter.detect({"conversation_id": "c1", "turns": []})
    assert not adapter.detect(["tweet_id", "author_id"])


def test_threads_become_social_conversations_with_agent_replies():
    loaded, _ = convert(rows_as_read(FIXTURE))
    first = loaded["101"]
    assert first["channel"] == "social"
    assert first["customer_id"] == "c1"
    assert first["queue"] == "AcmeHelp"
    assert (first["started_at"], first["ended_at"]) == ("2024-03-04T09:00:00Z", "2024-03-04T09:25:00Z")
    assert [(t["turn_id"], t["speaker"], t["agent_id"]) for t in first["turns"]] == [
        ("101", "customer", None),
        ("102", "agent", "AcmeHelp"),
        ("103", "customer", None),
        ("104", "agent", "AcmeHelp"),
    ]
    assert first["turns"][1]["ts"] == "2024-03-04T09:12:30Z"  # the first response, 750 s after the tweet
    assert first["consent_analytics"] is True and first["events"] == []


def test_times_are_converted_to_utc():
    loaded, _ = convert(rows_as_read(FIXTURE))
    assert loaded["201"]["turns"][0]["ts"] == "2024-03-04T09:00:00Z"  # written +0100


def test_another_customer_joining_a_thread_gets_a_conversation_of_their_own():
    loaded, _ = convert(rows_as_read(FIXTURE))
    assert [t["turn_id"] for t in loaded["201"]["turns"]] == ["201", "202"]
    assert loaded["203"]["customer_id"] == "c3"
    assert [(t["turn_id"], t["speaker"]) for t in loaded["203"]["turns"]] == [("203", "customer"), ("204", "agent")]


def test_a_tweet_answering_one_not_in_the_file_roots_its_own_thread():
    loaded, _ = convert(rows_as_read(FIXTURE))
    assert [t["turn_id"] for t in loaded["601"]["turns"]] == ["601"]


def test_unmappable_tweets_are_quarantined_with_their_reason():
    records = rows_as_read(FIXTURE)
    line = {r.value["tweet_id"] or "blank": r.line for r in reversed(records)}  # the first row of each id
    _, rejected = convert(records)
    assert "no inbound (customer) tweet" in rejected[line["301"]] and "tweet 999" in rejected[line["301"]]
    assert "neither True nor False" in rejected[line["401"]]
    assert "not a Twitter or ISO-8601 time" in rejected[line["402"]]
    assert "repeats the tweet of line 2" in rejected[13]
    assert "cycle" in rejected[line["501"]] and "cycle" in rejected[line["502"]]
    assert rejected[line["blank"]] == "tweet_id is missing"
    assert len(rejected) == 7


def test_converted_records_satisfy_the_transcripts_contract():
    loaded, _ = convert(rows_as_read(FIXTURE))
    contract = input_contracts()["transcripts"]
    for record in loaded.values():
        assert validate_record(contract, record, BOUNDS, **LIMITS)[1] == []


def test_typed_values_of_a_parquet_export_are_read():
    row = dict.fromkeys(HEADER)
    row.update(tweet_id=7.0, author_id=42, inbound=True, created_at=datetime(2024, 3, 4, 9), text="hi")
    loaded, rejected = convert([LandingRecord(1, "", row)])
    assert rejected == {}
    assert loaded["7"]["customer_id"] == "42" and loaded["7"]["started_at"] == "2024-03-04T09:00:00Z"


@st.composite
def forests(draw):
    """Tweets replying to earlier tweets (or to ids not in the file), by three customers and two brands."""
    n = draw(st.integers(1, 25))
    rows = []
    start = datetime(2024, 3, 4, 9)
    for i in range(n):
        parent = draw(st.one_of(st.none(), st.integers(0, i + 3)))  # > i - 1: absent or a later tweet
        inbound = draw(st.booleans())
        author = draw(st.sampled_from(["u1", "u2", "u3"] if inbound else ["BrandA", "BrandB"]))
        created = start + timedelta(minutes=draw(st.integers(0, 600)))
        when = created.strftime("%a %b %d %H:%M:%S +0000 %Y")
        row = dict(zip(HEADER, [str(i), author, str(inbound), when], strict=False))
        row.update(text=f"t{i}", response_tweet_id="", in_response_to_tweet_id="" if parent is None else str(parent))
        rows.append(row)
    return rows


@settings(max_examples=150, deadline=None)
@given(forests())
def test_every_tweet_is_one_turn_or_quarantined_and_each_conversation_has_one_customer(rows):
    records = [LandingRecord(n, json.dumps(r), r) for n, r in enumerate(rows, start=2)]
    out = list(TwcsAdapter().convert(records))
    author = {r["tweet_id"]: r["author_id"] for r in rows}
    turned = [t["turn_id"] for r in out if r.error is None for t in r.value["turns"]]
    quarantined = [r.line for r in out if r.error is not None]
    assert len(turned) == len(set(turned))
    assert len(turned) + len(quarantined) == len(rows)
    for r in out:
        if r.error is None:
            customers = {author[t["turn_id"]] for t in r.value["turns"] if t["speaker"] == "customer"}
            assert customers == {r.value["customer_id"]}
            assert [t["ts"] for t in r.value["turns"]] == sorted(t["ts"] for t in r.value["turns"])


def test_consent_comes_from_the_runs_landing_settings_not_from_the_records():
    from cx_signals.adapters import registry

    assert CONFIG["landing"]["transcripts"]["consent_analytics"] is True
    landing = CONFIG.merged({"landing": {"transcripts": {"consent_analytics": False}}}).landing
    adapters = {a.name: a for a in registry("transcripts", landing)}
    assert {"twcs", "zendesk", "intercom", "freshdesk"} <= set(adapters)
    out = list(adapters["twcs"].convert(rows_as_read(FIXTURE)))
    assert {r.value["consent_analytics"] for r in out if r.error is None} == {False}
    assert {r.value["consent_analytics"] for r in TwcsAdapter().convert(rows_as_read(FIXTURE)) if r.error is None} == {
        True
    }


def test_two_inbound_authors_replying_to_each_other_give_one_conversation_each():
    times = [f"Mon Mar 04 09:0{m}:00 +0000 2024" for m in range(5)]
    tweets = [("1", "a", "True", ""), ("2", "b", "True", "1"), ("3", "a", "True", "2"), ("4", "b", "True", "3")]
    tweets.append(("5", "Brand", "False", "4"))
    rows = [
        dict(zip(HEADER, [i, author, inbound, when, f"t{i}", "", parent], strict=True))
        for (i, author, inbound, parent), when in zip(tweets, times, strict=True)
    ]
    loaded, rejected = convert([LandingRecord(n, json.dumps(r), r) for n, r in enumerate(rows, start=2)])
    assert rejected == {}
    assert {cid: (c["customer_id"], [t["turn_id"] for t in c["turns"]]) for cid, c in loaded.items()} == {
        "1": ("a", ["1", "3"]),
        "2": ("b", ["2", "4", "5"]),  # the brand answers b's tweet
    }
