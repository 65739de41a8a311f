"""Snowplow's own web-model fixture (../shared/data/snowplow_web: 160 curated enriched events and the sessions and page
views snowplow/dbt-snowplow-web expects from them) through `cx-signals run`: sessions (id, start, end, page views)
and page views match the expected tables exactly, and the enriched TSV and Parquet forms of the same events load the
same rows as the warehouse CSV."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from cx_signals.adapters.snowplow import ENRICHED_FIELDS
from cx_signals.contracts import TimeBounds
from cx_signals.ingest import ingest_source
from cx_signals.landing import discover

SNOWPLOW = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "snowplow_web"
EVENTS = SNOWPLOW / "source" / "snowplow_web_events.csv"
EXPECTED = SNOWPLOW / "expected"

pytestmark = [
    pytest.mark.real_data,
    pytest.mark.skipif(not EVENTS.is_file(), reason=f"Snowplow web sample not found at {SNOWPLOW}"),
]


@pytest.fixture(scope="module")
def run(snowplow_run) -> tuple[Path, subprocess.CompletedProcess]:
    """The events CSV alone through `cx-signals run` (tests/real_data/conftest.py, shared with the identity tests)."""
    return snowplow_run


def test_the_run_reads_the_export_as_snowplow_and_says_so(run):
    db, result = run
    assert result.returncode == 0, result.stdout + result.stderr
    assert "events/snowplow_web_events.csv │ snowplow │ csv" in result.stdout
    with duckdb.connect(str(db), read_only=True) as con:
        inputs = con.execute("SELECT inputs FROM audit.runs WHERE asset = 'raw.events'").fetchall()
    formats = {(f["file"], f["format"]) for (listed,) in inputs for f in json.loads(listed)}
    assert formats == {("events/snowplow_web_events.csv", "snowplow")}


def test_sessions_match_snowplows_expected_sessions_exactly(run):
    db, _ = run
    with duckdb.connect(str(db), read_only=True) as con:
        ours = con.execute(
            "SELECT session_id, session_start, session_end, page_views FROM signals.session_friction "
            "WHERE page_views > 0 ORDER BY ALL"
        ).fetchall()
        expected = con.execute(
            """SELECT domain_sessionid, start_tstamp::TIMESTAMP, end_tstamp::TIMESTAMP, page_views::INT
            FROM read_csv(?, all_varchar = true) ORDER BY ALL""",
            [str(EXPECTED / "snowplow_web_sessions_expected.csv")],
        ).fetchall()
        # Snowplow's model keeps only sessions with a page view; ours keeps the others too, without page views
        without = con.execute("SELECT count(*) FROM signals.session_friction WHERE page_views = 0").fetchone()[0]
    assert len(expected) == 18
    assert ours == expected
    assert without > 0


def test_page_views_match_snowplows_expected_page_views_exactly(run):
    db, _ = run
    with duckdb.connect(str(db), read_only=True) as con:
        ours = con.execute(
            """SELECT properties->>'page_view_id', event_id, session_id, ts FROM raw.events
            WHERE event_type = 'page_view' AND (properties->>'from_page_ping') IS NULL ORDER BY ALL"""
        ).fetchall()
        expected = con.execute(
            """SELECT page_view_id, event_id, domain_sessionid, derived_tstamp::TIMESTAMP
            FROM read_csv(?, all_varchar = true) ORDER BY ALL""",
            [str(EXPECTED / "snowplow_web_page_views_expected.csv")],
        ).fetchall()
    assert len(expected) == 43
    assert ours == expected


def test_every_event_the_web_model_leaves_out_is_quarantined_with_its_reason(run):
    db, _ = run
    with duckdb.connect(str(db), read_only=True) as con:
        rules = dict(con.execute("SELECT rule, count(*) FROM quarantine.rejects GROUP BY ALL").fetchall())
        read, quarantined = con.execute(
            "SELECT sum(records_read), sum(records_quarantined) FROM audit.runs WHERE asset = 'raw.events'"
        ).fetchone()
        loaded = con.execute("SELECT count(*) FROM raw.events").fetchone()[0]
    # the fixture's edge cases: two copies of one event id in two sessions' events, late sent events, the long
    # session's last 13 days, a page view without its id, a second page view of one id
    assert rules == {
        "session_too_long": 8,
        "duplicate_event": 3,
        "late_event": 3,
        "unmappable_record": 1,
        "duplicate_page_view": 1,
    }
    assert (read, quarantined, loaded) == (163, 16, 147)  # 160 events + 3 page views of stray page pings


def test_its_link_clicks_are_clicks_on_links_so_none_is_a_dead_click(run):
    db, _ = run
    with duckdb.connect(str(db), read_only=True) as con:
        clicks = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE element_tag = 'a') FROM raw.events WHERE event_type = 'click'"
        ).fetchone()
        friction = con.execute(
            "SELECT sum(rage_click_bursts), sum(dead_clicks), count(*) FILTER (WHERE had_friction) "
            "FROM signals.session_friction"
        ).fetchone()
    # 6 link clicks load; the page recorded no answer to most of them for minutes (the visitor had gone to the
    # link's page or another tab) or ever, which the rule before Datadog's fix counted as 5 dead clicks in 4
    # sessions. Snowplow records no click position, so no rage burst either.
    assert clicks == (6, 6)
    assert friction == (0, 0, 0)


def _tsv_row(row: dict[str, str]) -> list[str]:
    """A warehouse CSV row as the enriched TSV's 131 fields: entities and the event back in self-describing JSON."""
    page = row["contexts_com_snowplowanalytics_snowplow_web_page_1_0_0"]
    contexts = {
        "schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0",
        "data": [
            {"schema": "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0", "data": entity}
            for entity in (json.loads(page) if page else [])
        ],
    }
    unstruct = ""
    for column, value in row.items():
        if column.startswith("unstruct_event_") and value:
            name = column.removeprefix("unstruct_event_com_snowplowanalytics_snowplow_").removesuffix("_1_0_0")
            schema = f"iglu:com.snowplowanalytics.snowplow/{name}/jsonschema/1-0-0"
            event = {"schema": schema, "data": json.loads(value)}
            wrapper = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
            unstruct = json.dumps({"schema": wrapper, "data": event})
    fields = {**row, "contexts": json.dumps(contexts) if page else "", "unstruct_event": unstruct,
              "derived_contexts": ""}  # fmt: skip
    return [fields[name].replace("\t", " ").replace("\n", " ") for name in ENRICHED_FIELDS]


def _loaded(landing: Path, header_lines: int = 0) -> tuple[list[tuple], list[tuple]]:
    days = {date(2020, 7, 3)} | {date(2021, 2, 20) + timedelta(days=n) for n in range(30)}
    now = datetime.now(UTC).replace(tzinfo=None)
    result = ingest_source(
        "events",
        discover(landing),
        days,
        TimeBounds(datetime(1990, 1, 1), now + timedelta(days=1)),
        b"k" * 32,
        max_text_chars=100_000,
        placeholder_ids=("",),
    )
    rows = result.rows["raw.events"]
    rejects = sorted((r["source_line"] + header_lines, r["rule"]) for r in result.rejects)
    return sorted((r["event_id"], r["ts"], r["session_id"], r["event_type"], r["page"]) for r in rows), rejects


def test_the_enriched_tsv_and_a_parquet_export_load_what_the_csv_loads(tmp_path):
    with EVENTS.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for name in ("csv", "tsv", "parquet"):
        (tmp_path / name / "events").mkdir(parents=True)
    shutil.copy(EVENTS, tmp_path / "csv" / "events" / "snowplow.csv")
    with (tmp_path / "tsv" / "events" / "enriched.tsv").open("w", encoding="utf-8") as out:
        out.writelines("\t".join(_tsv_row(row)) + "\n" for row in rows)
    with duckdb.connect() as con:
        con.execute(
            f"""COPY (SELECT * REPLACE (collector_tstamp::TIMESTAMP AS collector_tstamp,
                                       derived_tstamp::TIMESTAMP AS derived_tstamp,
                                       dvce_created_tstamp::TIMESTAMP AS dvce_created_tstamp,
                                       dvce_sent_tstamp::TIMESTAMP AS dvce_sent_tstamp)
                     FROM read_csv(?, all_varchar = true)) TO '{tmp_path / "parquet" / "events" / "e.parquet"}'
               (FORMAT parquet)""",
            [str(EVENTS)],
        )
    from_csv = _loaded(tmp_path / "csv")
    assert (len(from_csv[0]), len(from_csv[1])) == (147, 16)
    # the same rows, and the same records quarantined (the CSV's lines count its header)
    assert _loaded(tmp_path / "tsv", header_lines=1) == from_csv
    assert _loaded(tmp_path / "parquet", header_lines=1) == from_csv
