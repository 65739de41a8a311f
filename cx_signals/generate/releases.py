"""App releases of the synthetic business: the version each app runs at a time, and one bad web release.

Every event and telemetry record carries the version its app ran when the session started (`app_version`).
The bad release (`BAD_VERSION`, web) ships on `bad_release_day(days)` at `RELEASE_HOUR` UTC and is replaced by a fix
`BAD_RELEASE_DAYS` days later. While it runs, every web session on it with a session id (telemetry joins sessions by
it) whose planted friction already makes it a session with friction also reports the telemetry error
`BAD_RELEASE_ERROR` at its first event: a defect that precedes contacts from a known day and stops with the fix.
Adding the error only to sessions that already had friction, before any click, leaves every planted friction truth
(had friction, error clicks, pre-contact friction) as it was. `_truth/releases.parquet` records the releases.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cx_signals.generate.params import DAY, HOUR

RELEASES_README = """
## releases.parquet (one row per app release)

`app`, `version`, `released_at` (UTC; every session from then on runs it, and carries it as `app_version` on its
events and telemetry), `bad` (the planted bad web release) and `error` (the telemetry error the bad release adds,
at the first event, to each of its sessions that has planted friction: a defect that precedes contacts from its
release until the next release fixes it).
"""
RELEASE_HOUR = 9
BAD_VERSION = "5.4.0"
BAD_RELEASE_DAYS = 2
BAD_RELEASE_ERROR = ("PaymentSheetTimeout", 504, "Payment sheet did not load within 10 s")
_BAD_DAY = 8  # the bad release ships on this 0-based day when the history is long enough to judge it against


def bad_release_day(days: int) -> int:
    """The 0-based day the bad web release ships: day 8 (a week of baseline before it) when `days` is at least 12,
    else the middle day."""
    return _BAD_DAY if days >= 12 else days // 2


def releases(days: int) -> dict[str, list[tuple[int, str, bool]]]:
    """Per app, its releases as (0-based day shipped, version, is the bad release), in order."""
    bad = bad_release_day(days)
    return {
        "web": [(0, "5.3.2", False), (bad, BAD_VERSION, True), (bad + BAD_RELEASE_DAYS, "5.4.1", False)],
        "ios": [(0, "3.12.0", False), (4, "3.13.0", False)],
        "android": [(0, "3.12.1", False), (6, "3.13.0", False)],
    }


class Releases:
    """The version of each app at a time (ms since the epoch) of a generation starting at `t0` over `days` days."""

    def __init__(self, t0: int, days: int) -> None:
        self.t0 = t0
        self.schedule = {
            app: [(t0 + day * DAY + RELEASE_HOUR * HOUR, version, bad) for day, version, bad in rows]
            for app, rows in releases(days).items()
        }

    def release(self, app: str, ms: int) -> tuple[str, bool]:
        """(version, is the bad release) that `app` runs at `ms`; the first release before it ships."""
        rows = self.schedule[app]
        current = rows[0]
        for row in rows:
            if row[0] <= ms:
                current = row
        return current[1], current[2]

    def truth(self) -> pa.Table:
        """The releases as a table: app, version, released_at (UTC), bad, error (the bad release's error name)."""
        rows = [
            {"app": app, "version": version, "released_at": at * 1_000, "bad": bad,
             "error": BAD_RELEASE_ERROR[0] if bad else None}
            for app, schedule in self.schedule.items()
            for at, version, bad in schedule
        ]  # fmt: skip
        schema = pa.schema(
            [
                ("app", pa.string()),
                ("version", pa.string()),
                ("released_at", pa.timestamp("us", tz="UTC")),
                ("bad", pa.bool_()),
                ("error", pa.string()),
            ]
        )
        return pa.Table.from_pylist(rows, schema=schema)

    def write_truth(self, truth_dir: Path) -> None:
        """Write `releases.parquet` into the truth folder."""
        pq.write_table(self.truth(), truth_dir / "releases.parquet")
