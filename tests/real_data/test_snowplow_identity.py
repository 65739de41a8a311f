"""Identity stitching on Snowplow's own web-model fixture (../shared/data/snowplow_web), through `cx-signals run`.

As published, every one of its events carries a user_id (the fixture labels its test cases with it), so no device
browses logged out and logs in later: every session's customer is its own login and stitching adds nothing. The
fixture's "user stitch" device logs in as 10 user ids over two sessions; Snowplow's model stitches both sessions to
the device's last user id, ours keeps each session's own last login. Then the same events with the logins of three
sessions removed (as if browsed logged out): a session whose device logs in as one customer, the same day or two days
later, becomes that customer's; the session on the "user stitch" device stays anonymous (a shared device), where
Snowplow's mapping would give it the device's last user id."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from cx_signals.paths import database_files
from tests.conftest import cx

SNOWPLOW = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "snowplow_web"
EVENTS = SNOWPLOW / "source" / "snowplow_web_events.csv"
EXPECTED = SNOWPLOW / "expected"
# domain_sessionid prefixes of the sessions whose user_id the logged-out copy removes, and what each session becomes
LOGGED_OUT = {
    "df2bf41d": ("device", "Multiple first sessions per user"),  # the device's other session, the same minute
    "4d34b56a": ("device", "stray page ping"),  # the device's session two days later
    "79831fae": ("shared_device", None),  # the "user stitch" device logs in as 8 user ids the next day
}

pytestmark = [
    pytest.mark.real_data,
    pytest.mark.skipif(not EVENTS.is_file(), reason=f"Snowplow web sample not found at {SNOWPLOW}"),
]


def run(root: Path, events: list[dict[str, str]], fields: list[str]) -> Path:
    """`cx-signals run` over `events` written as a warehouse CSV export; the working database's path."""
    (root / "landing" / "events").mkdir(parents=True)
    with (root / "landing" / "events" / EVENTS.name).open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        writer.writerows(events)
    db = root / "cx.duckdb"
    result = cx("run", "--landing", str(root / "landing"), "--db", str(db), timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return database_files(db).working


@pytest.fixture(scope="module")
def source() -> tuple[list[dict[str, str]], list[str]]:
    with EVENTS.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader), list(reader.fieldnames or [])


@pytest.fixture(scope="module")
def as_published(snowplow_run) -> Path:
    """The events as published through `cx-signals run` (tests/real_data/conftest.py, shared with test_snowplow_web):
    the working database's path."""
    db, result = snowplow_run
    assert result.returncode == 0, result.stdout + result.stderr
    return database_files(db).working


@pytest.fixture(scope="module")
def logged_out(tmp_path_factory, source) -> Path:
    events, fields = source
    blanked = [{**e, "user_id": ""} if e["domain_sessionid"][:8] in LOGGED_OUT else e for e in events]
    return run(tmp_path_factory.mktemp("logged-out"), blanked, fields)


def session_customers(working: Path) -> dict[str, tuple[str, str | None]]:
    """Each session (by the first 8 characters of its id) with customer_key_source and the clear user_id of its
    customer_key."""
    with duckdb.connect(str(working), read_only=True) as con:
        rows = con.execute(
            """SELECT left(s.session_id, 8), s.customer_key_source,
                      (SELECT any_value(e.customer_id) FROM raw.events AS e WHERE e.customer_key = s.customer_key)
               FROM signals.session_friction AS s WHERE s.session_id IS NOT NULL"""
        ).fetchall()
    return {session: (source, user) for session, source, user in rows}


def test_as_published_every_session_is_its_own_logins_and_one_device_is_shared(as_published):
    with duckdb.connect(str(as_published), read_only=True) as con:
        sources = con.execute("SELECT customer_key_source, count(*) FROM signals.session_friction GROUP BY ALL")
        assert sources.fetchall() == [("session", 46)]
        shared = con.execute(
            """SELECT anonymous_id, count(DISTINCT customer_id) FROM raw.events GROUP BY ALL
               HAVING count(DISTINCT customer_id) > 1"""
        ).fetchall()
    assert [(device[:8], customers) for device, customers in shared] == [("434dff58", 10)]


def test_the_user_stitch_device_keeps_each_sessions_last_login_where_snowplow_takes_the_devices_last(as_published):
    ours = session_customers(as_published)
    with duckdb.connect() as con:
        snowplow = dict(
            con.execute(
                "SELECT left(domain_sessionid, 8), stitched_user_id FROM read_csv(?, all_varchar = true) "
                "WHERE domain_userid LIKE '434dff58%'",
                [str(EXPECTED / "snowplow_web_sessions_expected.csv")],
            ).fetchall()
        )
    last = "user stitch - session: 2nd id: 10"
    assert snowplow == {"79831fae": last, "37b340c1": last}
    assert ours["37b340c1"] == ("session", last)
    assert ours["79831fae"] == ("session", "user stitch - session: 1st id: 2")


def test_sessions_browsed_logged_out_are_stitched_to_their_devices_one_customer_and_not_on_a_shared_device(logged_out):
    sessions = session_customers(logged_out)
    assert {session: sessions[session] for session in LOGGED_OUT} == LOGGED_OUT
    others = {source for session, (source, _) in sessions.items() if session not in LOGGED_OUT}
    assert others == {"session"}
