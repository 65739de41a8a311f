"""The adapter framework: files recognised by content, forced by config, unknown shapes quarantined as files, and
adapted records counted like any other (read = loaded + quarantined + duplicates)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from cx_signals.adapters import CONTRACT, check_landing, formats
from cx_signals.adapters.detect import UNKNOWN_FORMAT_RULE, detect_format, read_adapted
from cx_signals.config import ConfigError, load_config
from cx_signals.contracts import TimeBounds, input_contracts
from cx_signals.ingest import contract_field_names, ingest_source
from cx_signals.landing import LandingRecord, discover

DAY = date(2026, 10, 1)
BOUNDS = TimeBounds(datetime(1990, 1, 1), datetime(2026, 12, 1), datetime(2026, 11, 1))
KEY = b"k" * 32
MAPPING = """\
name: acme
source: events
detect: [click_id, when]
fields:
  event_id: click_id
  ts: {path: when, format: "%d/%m/%Y %H:%M:%S", timezone: Europe/Paris}
  anonymous_id: visitor
  event_type: {path: action, values: {pv: page_view, clk: click}}
  page: url
  properties: {rest: true}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def landing_config(tmp_path: Path, **formats_by_source: str) -> dict:
    mapping = write(tmp_path / "acme.yml", MAPPING)
    landing = {s: {"format": formats_by_source.get(s, "auto")} for s in ("transcripts", "telemetry", "events")}
    return {**landing, "mappings": [str(mapping)]}


def ingest(root: Path, landing: dict):
    return ingest_source(
        "events",
        [f for f in discover(root) if f.source == "events"],
        {DAY},
        BOUNDS,
        KEY,
        max_text_chars=10_000,
        placeholder_ids=("", "undefined"),
        landing=landing,
    )


ACME = "click_id,when,visitor,action,url,browser\n" + "".join(
    f"c{i},01/10/2026 12:00:0{i},v1,{'pv' if i % 2 else 'clk'},/p{i},firefox\n" for i in range(4)
)


def test_a_mapped_export_is_recognised_converted_and_counted_like_any_other(tmp_path):
    landing = landing_config(tmp_path)
    write(tmp_path / "land" / "events" / "acme-2026-10-01.csv", ACME + "c9,01/10/2026 12:00:09,v1,zoom,/p9,x\n")
    result = ingest(tmp_path / "land", landing)
    rows = sorted(result.rows["raw.events"], key=lambda r: r["event_id"])
    assert [r["event_id"] for r in rows] == ["c0", "c1", "c2", "c3"]
    assert rows[0]["ts"] == datetime(2026, 10, 1, 10, 0, 0)  # Paris summer time is UTC+2
    assert [r["event_type"] for r in rows] == ["click", "page_view", "click", "page_view"]
    assert json.loads(rows[0]["properties"]) == {"browser": "firefox"}
    [reject] = result.rejects
    assert (reject["rule"], reject["source_line"]) == ("unmappable_record", 6)
    assert "'zoom' is not one the mapping knows" in reject["reason"]
    counts = result.counts[DAY]
    assert (counts.read, counts.loaded, counts.quarantined) == (5, 4, 1) and counts.reconciles
    [listed] = result.inputs[DAY].values()
    assert (listed["format"], listed["read_as"], listed["rows"]) == ("mapping:acme", "csv", 5)


def test_a_contract_shaped_file_stays_on_the_fast_path(tmp_path):
    landing = landing_config(tmp_path)
    event = {"event_id": "e1", "ts": "2026-10-01T10:00:00Z", "anonymous_id": "a", "event_type": "click"}
    file = write(tmp_path / "land" / "events" / "e-2026-10-01.jsonl", json.dumps(event) + "\n")
    [found] = discover(tmp_path / "land")
    assert detect_format(found, "events", contract_field_names(input_contracts()["events"]), landing).format == CONTRACT
    result = ingest(tmp_path / "land", landing)
    assert [r["event_id"] for r in result.rows["raw.events"]] == ["e1"]
    assert result.inputs[DAY][f"events/{file.name}"]["format"] == "contract"


def test_an_unknown_shape_is_quarantined_as_a_file_listing_the_formats_tried(tmp_path):
    landing = landing_config(tmp_path)
    write(tmp_path / "land" / "events" / "other-2026-10-01.jsonl", '{"foo": 1, "bar": 2}\n')
    write(tmp_path / "land" / "events" / "other-2026-10-01.csv", "foo,bar\n1,2\n")
    result = ingest(tmp_path / "land", landing)
    assert {r["rule"] for r in result.rejects} == {UNKNOWN_FORMAT_RULE}
    assert all(r["source_line"] is None for r in result.rejects)
    reasons = sorted(r["reason"] for r in result.rejects)
    assert "no header row, or an export of unknown format" in reasons[1] and "'foo,bar'" in reasons[1]
    assert "keys 'foo', 'bar'" in reasons[0]
    for reason in reasons:
        assert "formats tried: contract (events), " in reason and "mapping:acme" in reason
        assert "landing.events.format" in reason
    assert result.counts[DAY].read == 0


def test_config_forces_a_format_and_rejects_an_unknown_one(tmp_path):
    landing = landing_config(tmp_path, events="mapping:acme")
    # without its detect keys the file is still read as the forced mapping
    write(tmp_path / "land" / "events" / "acme-2026-10-01.csv", ACME.replace("click_id", "CLICK_ID", 1))
    result = ingest(tmp_path / "land", landing)
    assert {r["rule"] for r in result.rejects} == {"missing_required"}  # event_id is read from click_id
    assert result.counts[DAY].quarantined == 4
    assert "mapping:acme" in formats("events", landing) and "mapping:acme" not in formats("telemetry", landing)
    with pytest.raises(ValueError, match=r"landing\.telemetry\.format' must be one of auto, contract"):
        check_landing({**landing, "telemetry": {"format": "mapping:acme"}})
    override = write(tmp_path / "my.yml", "landing: {events: {format: nonsense}}\n")
    with pytest.raises(ConfigError, match=r"landing\.events\.format"):
        load_config(override)


class _Fanout:
    """An adapter giving two records for each source record, on its line."""

    name, source, headerless = "fanout", "events", True

    def detect(self, first):
        return isinstance(first, list) and first[:1] == ["FAN"]

    def convert(self, records):
        for record in records:
            for n in range(2):
                event = {"event_id": f"{record.value[1]}-{n}", "ts": "2026-10-01T10:00:00Z", "anonymous_id": "a",
                         "event_type": "click"}  # fmt: skip
                yield LandingRecord(record.line, record.payload, value=event)


def test_a_headerless_file_and_several_records_from_one_source_record(tmp_path, monkeypatch):
    monkeypatch.setattr("cx_signals.adapters.built_in", lambda: (_Fanout(),))
    write(tmp_path / "events" / "fan-2026-10-01.tsv", "FAN\tx\t\t\nFAN\ty\t\t\n")
    [found] = discover(tmp_path)
    detection = detect_format(found, "events", frozenset({"event_id"}))
    assert (detection.format, detection.headerless) == ("fanout", True)
    read = read_adapted(found, detection)
    assert read.read_as == "csv, no header" and read.adapter == "fanout"
    assert [r.line for r in read.records] == [1, 2, 3, 4]  # two records of line 1 each: numbered in order
    assert [json.loads(r.payload)["event_id"] for r in read.records] == ["x-0", "x-1", "y-0", "y-1"]
