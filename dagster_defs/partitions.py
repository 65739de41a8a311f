"""Daily (UTC) partitions shared by every time-based asset, and the run tags that narrow a range to its days."""

from datetime import date, timedelta

import dagster as dg

from cx_signals.config import Parameters
from cx_signals.contracts import table_contracts

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


def longest_window_days(config: Parameters) -> int:
    """The longest window (days) any asset reads around its partition: the windows the table contracts declare
    (repeat chains, priorities, anomalies) and the repeat-chain window of the model assets."""
    windows = [c.window.days(config) for c in table_contracts().values() if c.window]
    return max([config.outcomes.chain_lookback_days, *(days for window in windows for days in window)])


def days_in_spans(spans: str) -> set[date]:
    """The days a DATA_DAYS_TAG value names."""
    days: set[date] = set()
    for span in filter(None, spans.split(",")):
        first, _, last = span.partition("..")
        start, end = date.fromisoformat(first), date.fromisoformat(last or first)
        days.update(start + timedelta(days=n) for n in range((end - start).days + 1))
    return days


def window_reach(assets: list[dg.AssetsDefinition]) -> tuple[int, int]:
    """(days before, days after): how far from a day whose raw data changed the partitions of any asset read it,
    through the time-window partition mappings of every dependency (repeat chains, priorities, anomalies), so
    that re-running those days leaves every table as a full run would."""
    deps = {key: (a, a.asset_deps[key]) for a in assets for key in a.keys}
    reach: dict[dg.AssetKey, tuple[int, int]] = {}

    def of(key: dg.AssetKey) -> tuple[int, int]:
        if key not in reach:
            before, after = 0, 0
            assets_def, upstream = deps.get(key, (None, set()))
            for dep in upstream:
                mapping = assets_def.get_partition_mapping(dep)
                start, end = (
                    (mapping.start_offset, mapping.end_offset)
                    if isinstance(mapping, dg.TimeWindowPartitionMapping)
                    else (0, 0)
                )
                dep_before, dep_after = of(dep)
                # a partition D reads days D+start..D+end of `dep`, which a change on day T reaches T-before..T+after
                before, after = max(before, dep_before + end), max(after, dep_after - start)
            reach[key] = (before, after)
        return reach[key]

    spans = [of(key) for key in deps]
    return max((b for b, _ in spans), default=0), max((a for _, a in spans), default=0)
