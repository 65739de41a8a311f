"""Shared fixtures: an in-memory DuckDB with every table, and helpers to load hand-made rows."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import settings

from cx_signals.config import cost_model_rows, load_config, sql_parameters
from cx_signals.db import ensure_schema, replace_from_query, replace_rows

# Property tests check what a function returns, never how fast: on a shared machine a per-example deadline only
# makes them flaky (timing belongs to `cx-signals bench`).
settings.register_profile("no-deadline", deadline=None)
settings.load_profile("no-deadline")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

# pytest-xdist (`-n 2 --dist loadscope --no-loadscope-reorder`, pyproject.toml), with the work units chosen here: the
# tests of one module run in one worker, so that its module-scoped fixtures (a generated landing folder, a pipeline
# run) are built once; the modules in SPREAD hold slow tests that share nothing costly, so they go one by one to
# whichever worker is free; SHARED puts modules that read one session-scoped fixture (tests/e2e/conftest.py:
# `database`, a 12-day run) into one worker. Units run in collection order: the slow dagster/, ducklake/ and e2e/
# first, the many quick unit tests last to fill the gaps. (A scheduler, not `xdist_group` marks with `--dist
# loadgroup`: xdist 3.8 puts the group into `item._nodeid`, which pytest 9.2's `nodeid` no longer reads.)
SPREAD = {
    "tests/dagster/test_degrade.py",
    "tests/ducklake/test_ducklake.py",
    "tests/e2e/test_bench.py",
    "tests/e2e/test_trust.py",
}
SHARED = {
    **dict.fromkeys(
        (
            "tests/e2e/test_cli.py",
            "tests/e2e/test_bot_outcomes.py",
            "tests/e2e/test_model_governance.py",
            "tests/e2e/test_privacy_audit.py",
            "tests/e2e/test_dictionary_db.py",
            "tests/e2e/test_questions.py",
        ),
        "e2e-database",
    ),
    # tests/real_data/conftest.py: `snowplow_run`
    **dict.fromkeys(
        ("tests/real_data/test_snowplow_web.py", "tests/real_data/test_snowplow_identity.py"), "snowplow-run"
    ),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse a module that reads a session-scoped fixture of tests/ (the 12-day run) without being in SHARED: xdist
    would schedule it apart, and the other worker would build a second copy of the run for it."""
    loose = set()
    for item in items:
        definitions = getattr(item, "_fixtureinfo", None)
        for name in item.fixturenames:
            # the last definition is the one the test gets (a module's own fixture overrides the conftest's)
            used = definitions.name2fixturedefs.get(name, [None])[-1] if definitions else None
            if used is not None and used.scope == "session" and used.baseid.startswith("tests/"):
                module = item.nodeid.split("::", 1)[0]
                if module not in SHARED:
                    loose.add(f"{module} (fixture {name})")
    if loose:
        raise pytest.UsageError(f"add to SHARED in tests/conftest.py: {', '.join(sorted(loose))}")


def work_unit(nodeid: str) -> str:
    """The xdist work unit of a test: its module, its group in SHARED, or itself for a module in SPREAD."""
    module = nodeid.split("::", 1)[0]
    return nodeid if module in SPREAD else SHARED.get(module, module)


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return ModuleScheduling(config, log)


def cx(*args: str, timeout: float = 900, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`cx-signals ARGS` of this environment run as a user would, its output captured."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("cx-signals")), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
    )


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    """A fresh in-memory database with every schema, table and macro."""
    connection = duckdb.connect()
    ensure_schema(connection)
    connection.register("cost_model", pa.Table.from_pylist(cost_model_rows(load_config())))
    yield connection
    connection.close()


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert hand-made rows (missing columns are null) into `table`."""
    days = sorted({r["partition_date"] for r in rows})
    replace_rows(con, table, days, rows)


def run_query(
    con: duckdb.DuckDBPyConnection, table: str, sql_name: str, days: list[date], config: dict | None = None
) -> list[dict[str, Any]]:
    """Materialise `sql/<sql_name>.sql` into `table` for `days` and return the rows as dicts."""
    days_per_query = load_config().storage.days_per_query
    replace_from_query(con, table, days, sql_name, sql_parameters(config or load_config()), days_per_query)
    cursor = con.execute(f"SELECT * FROM {table} ORDER BY ALL")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def ts(text: str) -> datetime:
    """A naive UTC datetime from 'YYYY-MM-DD HH:MM:SS[.fff]'."""
    return datetime.fromisoformat(text)


def session_row(
    session_key: str,
    start: datetime,
    end: datetime,
    customer_key: str | None = "k1",
    friction_score: float = 0.0,
    **parts: Any,
) -> dict[str, Any]:
    """A signals.session_friction row with every count zero unless given in `parts`."""
    counts = (
        "n_events",
        "page_views",
        "clicks",
        "rage_click_bursts",
        "rage_clicks",
        "dead_clicks",
        "error_clicks",
        "form_errors",
        "quick_backs",
        "slow_pages",
        "crashes",
        "errors",
        "help_views",
        "contact_starts",
        "purchases",
    )
    return {
        "partition_date": start.date(),
        "session_key": session_key,
        "session_id": session_key.removeprefix("sid:") if session_key.startswith("sid:") else None,
        "anonymous_key": "a1",
        "customer_key": customer_key,
        "session_start": start,
        "session_end": end,
        "duration_seconds": (end - start).total_seconds(),
        **dict.fromkeys(counts, 0),
        "friction_score": friction_score,
        "had_friction": friction_score >= 3.0,
        **parts,
    }


def signals_row(conversation_id: str, started: datetime, hours: float, **columns: Any) -> dict[str, Any]:
    """A signals.conversation_signals row of one customer turn lasting `hours`, every count zero unless given in
    `columns` (any column of the table, e.g. agent_turns=2, csat=1)."""
    counts = (
        *("agent_turns", "bot_turns", "system_turns", "longest_negative_streak", "handoffs", "transfers"),
        *("interruptions", "escalation_requests", "repetitions", "effort_cues"),
    )
    row = {
        "partition_date": started.date(),
        "conversation_id": conversation_id,
        "customer_key": "k1",
        "channel": "chat",
        "labelled_intent": "billing",
        "disposition": "resolved",
        "started_at": started,
        "ended_at": started + timedelta(hours=hours),
        "duration_seconds": hours * 3600,
        "customer_turns": 1,
        "sentiment_shift_reliable": False,
        "hold_seconds": 0.0,
        **dict.fromkeys(counts, 0),
        **columns,
    }
    row.setdefault("n_turns", row["customer_turns"] + row["agent_turns"] + row["bot_turns"] + row["system_turns"])
    return row


def event_row(event_id: str, moment: datetime, kind: str, **columns: Any) -> dict[str, Any]:
    """A raw.events row of device a1 (customer k1, session s1, page /checkout) unless `columns` say otherwise."""
    device = columns.pop("anonymous_id", "a1")
    return {
        "partition_date": moment.date(),
        "event_id": event_id,
        "ts": moment,
        "anonymous_id": device,
        "anonymous_key": device,
        "customer_key": "k1",
        "session_id": "s1",
        "event_type": kind,
        "page": "/checkout",
        **columns,
    }


def turn_and_score_rows(conversation_id: str, turns: list[tuple]) -> tuple[list[dict], list[dict]]:
    """raw.turns and signals.turn_sentiment rows from (speaker, start, end or None, text, compound) tuples."""
    turn_rows, score_rows = [], []
    for index, (speaker, start, end, text, compound) in enumerate(turns):
        day = start.date()
        turn_rows.append(
            {
                "partition_date": day,
                "conversation_id": conversation_id,
                "turn_index": index,
                "turn_id": str(index),
                "speaker": speaker,
                "ts": start,
                "end_ts": end,
                "text": text,
            }
        )
        score_rows.append(
            {
                "partition_date": day,
                "conversation_id": conversation_id,
                "turn_index": index,
                "speaker": speaker,
                "compound": compound,
                "pos": 0.0,
                "neu": 1.0,
                "neg": 0.0,
            }
        )
    return turn_rows, score_rows
