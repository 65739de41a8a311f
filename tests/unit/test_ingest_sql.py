"""The SQL that set-based ingest derives from the contracts: the PII pre-filter never lets a text the redactor would
change skip redaction, and timestamps and pseudonyms computed in SQL equal Python's."""

from __future__ import annotations

import json
import string
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cx_signals.contracts import Field, parse_timestamp
from cx_signals.ingest import _hmac_pads, _pseudonym_sql
from cx_signals.ingest_sql import NAIVE_TIMESTAMP, ZONED_TIMESTAMP, may_hold_pii, sql_string, timestamp_sql
from cx_signals.privacy import pseudonym
from cx_signals.redact import redact

FREE_TEXT = Field("text", "string", pii="free_text")
ID_TEXT = Field("event_id", "string", pii="id_text", id=True)
LABELLED = Path(__file__).parents[1] / "data" / "pii_labelled.jsonl"
CON = duckdb.connect()


def flagged(text: str, field: Field) -> bool:
    return CON.execute(f"SELECT {may_hold_pii('?', field)}", [text]).fetchone()[0]


def labelled_texts() -> list[str]:
    return [json.loads(line)["text"] for line in LABELLED.read_text(encoding="utf-8").splitlines()]


def test_every_labelled_text_with_pii_is_flagged_as_free_text_and_as_an_id():
    texts = [t for t in labelled_texts() if redact(t).found]
    assert len(texts) > 50
    assert [t for t in texts if not flagged(t, FREE_TEXT)] == []
    assert [t for t in texts if not flagged(t, ID_TEXT)] == []
    # and each without its spaces, as an id would carry it
    joined = [t.replace(" ", "") for t in texts if redact(t.replace(" ", "")).found]
    assert [t for t in joined if not flagged(t, ID_TEXT)] == []


def test_plain_texts_and_hex_ids_are_not_flagged():
    assert not flagged("The website shows an error when I open my account page.", FREE_TEXT)
    assert not flagged("e-9e8e02bcb79b5ac6", ID_TEXT)
    assert flagged("call me on 020 7946 0958", FREE_TEXT) and flagged("jo@example.com", ID_TEXT)
    assert flagged("john dot smith at gmail dot com", FREE_TEXT)


ID_ALPHABET = string.ascii_letters + string.digits + "-_.:/#()[]x"


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=ID_ALPHABET, min_size=1, max_size=40))
def test_an_id_the_prefilter_passes_is_one_the_redactor_leaves_alone(value: str):
    if not flagged(value, ID_TEXT):
        assert redact(value).found == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=string.ascii_letters + " .,!?'-\n", max_size=80))
def test_a_text_the_prefilter_passes_is_one_the_redactor_leaves_alone(value: str):
    if not flagged(value, FREE_TEXT):
        assert redact(value).found == []


@pytest.mark.parametrize(
    "text",
    [
        "2026-10-01T00:19:48.351Z",
        "2026-10-01 00:04:16.055+00",
        "2026-10-01T02:00:00+02:00",
        "2026-10-01T02:00:00-0530",
        "2026-10-01T23:59:59.999999",
        "2016-02-29T12:00:00",
    ],
)
def test_sqltimestamp_sqls_equal_python_parsing(text: str):
    assert CON.execute(f"SELECT {timestamp_sql('$t')}", {"t": text}).fetchone()[0] == parse_timestamp(text)


@pytest.mark.parametrize("text", ["2026-13-01T00:00:00Z", "2026-10-01T00:00:00+25:00", "1790000000", "yesterday"])
def test_sql_leaves_othertimestamp_sqls_to_python(text: str):
    plain = CON.execute(
        f"SELECT regexp_full_match(?, {sql_string(NAIVE_TIMESTAMP)}) OR regexp_full_match(?, "
        f"{sql_string(ZONED_TIMESTAMP)})",
        [text, text],
    ).fetchone()[0]
    assert not plain or CON.execute(f"SELECT {timestamp_sql('$t')}", {"t": text}).fetchone()[0] is None


@pytest.mark.parametrize("key", [b"k", b"a-key-from-the-environment", bytes(range(100))])
@pytest.mark.parametrize("value", ["C000017", "agt-1008", "émoji 👍", ""])
def test_sql_pseudonyms_equal_python_hmac(key: bytes, value: str):
    sql = f"SELECT {_pseudonym_sql('$v')}"
    assert CON.execute(sql, {**_hmac_pads(key), "v": value}).fetchone()[0] == pseudonym(value, key)


def test_redaction_over_several_processes_gives_what_one_gives(monkeypatch):
    import cx_signals.ingest as ingest

    texts = [f"call me on 020 7946 09{i:02d} or mail jo{i}@example.com" for i in range(40)] + ["nothing here"]
    serial = ingest.redact_all("free_text", texts)
    monkeypatch.setattr(ingest, "_PARALLEL_REDACTION", 10)
    assert ingest.redact_all("free_text", texts) == serial
    assert serial[0][1] == 2 and serial[-1] == ("nothing here", 0)
