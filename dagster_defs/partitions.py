"""Daily (UTC) partitions shared by every time-based asset, and the run tags that narrow a range to its days."""

from datetime import date, timedelta

import dagster as dg

# One run processes a whole range of days: a backfill or `cx-signals run` is one run, not one per day.
single_run = dg.BackfillPolicy.single_run()
# The days of the run's partition range that hold data, as "YYYY-MM-DD..YYYY-MM-DD" spans joined by commas; a run
# over a range with long empty stretches (one record from 1999 in 2026 data) then works only on those days.
DATA_DAYS_TAG = "cx/data_days"


def daily_partitions(first_day: date) -> dg.DailyPartitionsDefinition:
    """Daily partitions from `first_day` to today (UTC), with today's partition open."""
    return dg.DailyPartitionsDefinition(start_date=first_day.isoformat(), timezone="UTC", end_offset=1)


def day_spans(days: list[date]) -> str:
    """`days` as comma-joined spans of consecutive days, the value of DATA_DAYS_TAG."""
    spans: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if spans and day == spans[-1][1] + timedelta(days=1):
            spans[-1] = (spans[-1][0], day)
        else:
            spans.append((day, day))
    return ",".join(f"{first}..{last}" for first, last in spans)


def plan_runs(days: list[date], window_days: int) -> list[list[date]]:
    """Split `days` into the groups that each get a run of their own, in order: a new group starts after a gap of
    more than `window_days` empty days, so that no lookback or lookahead window spans two groups and running them
    one after the other gives the same tables as one run. (Dagster plans every partition of a run's range, so a
    single run from one 1999 record to 2026 data would plan ten thousand empty days.)"""
    groups: list[list[date]] = []
    for day in sorted(set(days)):
        if groups and (day - groups[-1][-1]).days <= window_days + 1:
            groups[-1].append(day)
        else:
            groups.append([day])
    return groups


def longest_window_days(config: dict) -> int:
    """The longest window (days) any asset reads around its partition: repeat chains, priorities, anomalies."""
    return max(
        config["outcomes"]["chain_lookback_days"],
        config["priorities"]["window_days"],
        config["anomalies"]["baseline_days"],
    )


def days_in_spans(spans: str) -> set[date]:
    """The days a DATA_DAYS_TAG value names."""
    days: set[date] = set()
    for span in filter(None, spans.split(",")):
        first, _, last = span.partition("..")
        start, end = date.fromisoformat(first), date.fromisoformat(last or first)
        days.update(start + timedelta(days=n) for n in range((end - start).days + 1))
    return days
