"""Declarative mappings: the worked examples of docs/adapters.md run as written, and each rule on its own."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cx_signals.adapters.mapping import (
    MappingError,
    Unmappable,
    load_mapping,
    load_mappings,
    lookup,
    parse_path,
    read_timestamp,
)
from cx_signals.contracts import TimeBounds
from cx_signals.ingest import ingest_source
from cx_signals.landing import LandingRecord, discover

DOC = Path(__file__).resolve().parents[2] / "docs" / "adapters.md"
DAY = date(2026, 10, 5)


def doc_blocks(language: str) -> list[str]:
    """The fenced code blocks of docs/adapters.md in `language`, in order."""
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


def ingest(root: Path, source: str, mapping: Path):
    return ingest_source(
        source,
        [f for f in discover(root) if f.source == source],
        {DAY},
        TimeBounds(datetime(1990, 1, 1), datetime(2026, 12, 1)),
        b"k" * 32,
        max_text_chars=10_000,
        placeholder_ids=("",),
        landing={"mappings": [str(mapping)]},
    )


def test_the_documented_csv_example_loads_as_the_page_says(tmp_path):
    [csv_text] = doc_blocks("csv")
    mapping = tmp_path / "acme_hits.yml"
    mapping.write_text(doc_blocks("yaml")[1])
    (tmp_path / "land" / "events").mkdir(parents=True)
    (tmp_path / "land" / "events" / "acme-2026-10-05.csv").write_text(csv_text)
    result = ingest(tmp_path / "land", "events", mapping)
    rows = sorted(result.rows["raw.events"], key=lambda r: r["event_id"])
    assert [(r["event_id"], r["event_type"], r["ts"]) for r in rows] == [
        ("h-1", "page_view", datetime(2026, 10, 5, 12, 2, 11)),
        ("h-2", "click", datetime(2026, 10, 5, 12, 2, 15)),
        ("h-3", "page_view", datetime(2026, 10, 5, 12, 3, 40)),
    ]
    assert [r["customer_id"] for r in rows] == [None, None, "cust-17"]
    assert (rows[1]["x"], rows[1]["y"], rows[1]["session_id"]) == (412, 230, "v-100")
    assert rows[0]["properties"] == '{"browser":"firefox"}'
    [reject] = result.rejects
    assert reject["rule"] == "unmappable_record" and reject["source_line"] == 5
    assert "event_type: value 'hover' is not one the mapping knows ('view', 'tap', 'search')" in reject["reason"]
    assert result.counts[DAY].reconciles and result.counts[DAY].read == 4
    [listed] = result.inputs[DAY].values()
    assert listed["format"] == "mapping:acme_hits"


def test_the_documented_json_document_example_loads_as_the_page_says(tmp_path):
    [document] = doc_blocks("json")
    mapping = tmp_path / "tracker.yml"
    mapping.write_text(doc_blocks("yaml")[2])
    (tmp_path / "land" / "telemetry").mkdir(parents=True)
    (tmp_path / "land" / "telemetry" / "errors-2026-10-05.json").write_text(document)
    result = ingest(tmp_path / "land", "telemetry", mapping)
    [row] = result.rows["raw.telemetry"]
    assert (row["ts"], row["kind"], row["name"], row["customer_id"], row["app"], row["status_code"]) == (
        datetime(2026, 10, 5, 14, 2, 11), "error", "PaymentDeclined", "cust-17", "ios", 402
    )  # fmt: skip
    assert result.rejects == []


def test_paths():
    assert parse_path('a.b[0]["c.d"]') == ("a", "b", 0, "c.d")
    with pytest.raises(MappingError):
        parse_path("a..[")
    record = {"a": {"b": [{"c.d": 1}]}, "user.id": "u1", "list": [1, 2]}
    assert lookup(record, parse_path('a.b[0]["c.d"]')) == 1
    assert lookup(record, parse_path("user.id")) == "u1"  # a flat header holding dots
    assert lookup(record, parse_path("list[5]")) is lookup(record, parse_path("nope"))  # both missing


def test_timestamp_formats():
    paris = ZoneInfo("Europe/Paris")
    assert read_timestamp("1791208931123", "unix_ms", paris) == "2026-10-05T14:02:11.123000Z"
    assert read_timestamp(1791208931123456789, "unix_ns", paris) == "2026-10-05T14:02:11.123456Z"
    assert read_timestamp("1791208931.5", "unix_s", paris) == "2026-10-05T14:02:11.500000Z"
    assert read_timestamp("2026-10-05T16:02:11+02:00", "iso", paris) == "2026-10-05T14:02:11Z"
    assert read_timestamp("05/10/2026 16:02", "%d/%m/%Y %H:%M", paris) == "2026-10-05T14:02:00Z"
    for bad, fmt in (("tomorrow", "unix_ms"), ("5 Oct", "%d/%m/%Y"), ("nan", "unix_s")):
        with pytest.raises(Unmappable):
            read_timestamp(bad, fmt, paris)


def write_mapping(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.yml"
    path.write_text(text)
    return path


def test_constants_defaults_types_and_value_maps(tmp_path):
    adapter = load_mapping(
        write_mapping(
            tmp_path,
            """
name: t
source: telemetry
detect: [when]
fields:
  ts: {path: when, format: iso}
  anonymous_id: {path: dev, default: unknown-device}
  app: {const: web}
  kind: {path: level, values: {E: error, F: crash}, default: latency}
  name: what
  duration_ms: {path: ms, type: number}
""",
        )
    )
    records = [
        LandingRecord(2, "", value={"when": "2026-10-05T10:00:00Z", "level": "F", "what": "x", "ms": "12.5"}),
        LandingRecord(3, "", value={"when": "2026-10-05T10:00:00Z", "level": "Q", "what": "y", "ms": "slow"}),
    ]
    first, second = adapter.convert(records)
    assert first.value == {"ts": "2026-10-05T10:00:00Z", "anonymous_id": "unknown-device", "app": "web",
                           "kind": "crash", "name": "x", "duration_ms": 12.5}  # fmt: skip
    assert second.rule == "unmappable_record" and "'slow' is not a number" in second.error


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nsource: events\ndetect: [a]\nfields: {nonsense: a}\n", "nonsense not fields of the events"),
        ("name: x\nsource: nowhere\ndetect: [a]\nfields: {ts: a}\n", "source must be one of"),
        ("name: x\nsource: events\nfields: {ts: a}\n", "lacks detect"),
        ("name: x\nsource: events\ndetect: [a]\nfields: {ts: {path: a, timezone: Mars/Base}}\n", "unknown timezone"),
        ("name: x\nsource: events\ndetect: [a]\nfields: {ts: {path: a, const: 1}}\n", "exactly one of"),
        ("name: x\nsource: events\ndetect: [a]\nfields: {ts: {path: a, colour: red}}\n", "unknown keys"),
        ("[1, 2]\n", "must hold a mapping"),
    ],
)
def test_a_bad_mapping_file_is_a_clear_error(tmp_path, text, message):
    with pytest.raises(MappingError, match=re.escape(message)):
        load_mapping(write_mapping(tmp_path, text))


def test_two_mappings_may_not_share_a_name(tmp_path):
    path = write_mapping(tmp_path, "name: x\nsource: events\ndetect: [a]\nfields: {event_id: a}\n")
    with pytest.raises(MappingError, match="named twice"):
        load_mappings((str(path), str(path)))


def test_a_mapping_fills_the_clicked_element_that_friction_rules_read(tmp_path):
    adapter = load_mapping(
        write_mapping(
            tmp_path,
            """
name: heap
source: events
detect: [event_id, target_tag]
fields:
  event_id: event_id
  ts: time
  anonymous_id: user
  event_type: {path: type, values: {click: click, selection: selection_change}}
  element_tag: target_tag
  element_type: target.type
  element_role: target.role
  element_text: target.text
""",
        )
    )
    click = {"event_id": "h1", "time": "2026-10-05T10:00:00Z", "user": "u1", "type": "click", "target_tag": "button",
             "target": {"role": "button", "text": "Next"}}  # fmt: skip
    selection = {"event_id": "h2", "time": "2026-10-05T10:00:00Z", "user": "u1", "type": "selection"}
    first, second = adapter.convert([LandingRecord(2, "", value=click), LandingRecord(3, "", value=selection)])
    assert {k: v for k, v in first.value.items() if k.startswith("element_")} == {
        "element_tag": "button", "element_role": "button", "element_text": "Next"
    }  # fmt: skip
    assert second.value["event_type"] == "selection_change" and "element_tag" not in second.value
