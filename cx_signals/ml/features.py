"""The features the CSAT and repeat-risk models read: a contact's conversation signals and its journey so far, and
which contacts are labelled or still open on a day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

import polars as pl

from cx_signals.ml import UNKNOWN_INTENT

CHANNELS = ("chat", "voice", "email", "messaging", "social")
DISPOSITIONS = ("resolved", "unresolved", "abandoned", "none")
COUNT_COLUMNS = (
    "customer_turns",
    "agent_turns",
    "bot_turns",
    "longest_negative_streak",
    "handoffs",
    "transfers",
    "interruptions",
    "escalation_requests",
    "repetitions",
    "effort_cues",
)
SENTIMENT_COLUMNS = ("sentiment_start", "sentiment_end", "sentiment_shift", "sentiment_min", "customer_sentiment_mean")
SECONDS_COLUMNS = ("duration_seconds", "hold_seconds", "non_talk_seconds", "first_response_seconds")
# The columns of signals.conversation_signals the features read, plus `intent` (labelled or predicted).
SIGNAL_COLUMNS = (
    "conversation_id",
    "channel",
    "intent",
    "disposition",
    *COUNT_COLUMNS,
    *SENTIMENT_COLUMNS,
    "sentiment_shift_reliable",
    *SECONDS_COLUMNS,
)
# What journey_risk_features reads besides SIGNAL_COLUMNS: columns of metrics.contact_outcomes, and acted_at (the
# first operators' action on the contact's journey from its start to the journey's next contact: see
# sql/models/risk_contacts.sql).
JOURNEY_COLUMNS = ("chain_id", "chain_position", "started_at", "ended_at", "cost", "pre_contact_friction", "acted_at")


def require_columns(frame: pl.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise ValueError naming the `columns` that `frame` (described as `what`) lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} is missing column(s) {missing}")


def conversation_features(signals: pl.DataFrame) -> pl.DataFrame:
    """One row per conversation (input order): `conversation_id` and float features from its signals.

    `signals` holds SIGNAL_COLUMNS (signals.conversation_signals plus an `intent` column). Features:
    one-hot channel, intent (null = "unknown") and disposition (null = "none"); turn and event counts;
    customer sentiment start/end/shift/min/mean; log1p of duration, hold, non-talk and first-response seconds.
    Nulls: sentiments of a conversation without customer turns are 0 (neutral) with `no_customer_sentiment` = 1;
    non-talk seconds (untimed channels) are 0; a missing first response is 0 with `no_first_response` = 1;
    other nulls are 0. CSAT and outcomes decided after the contact (repeats, CwQ) are never read.
    """
    require_columns(signals, SIGNAL_COLUMNS, "signals")
    intent = pl.col("intent").fill_null(UNKNOWN_INTENT)
    intents = sorted(signals.select(intent.unique())["intent"].to_list())
    disposition = pl.col("disposition").fill_null("none")

    def flag(condition: pl.Expr, name: str) -> pl.Expr:
        return condition.fill_null(False).cast(pl.Float64).alias(name)

    return signals.select(
        "conversation_id",
        *[flag(pl.col("channel") == c, f"channel={c}") for c in CHANNELS],
        *[flag(intent == i, f"intent={i}") for i in intents],
        *[flag(disposition == d, f"disposition={d}") for d in DISPOSITIONS],
        *[pl.col(c).cast(pl.Float64).fill_null(0.0) for c in (*COUNT_COLUMNS, *SENTIMENT_COLUMNS)],
        flag(pl.col("customer_sentiment_mean").is_null(), "no_customer_sentiment"),
        flag(pl.col("sentiment_shift_reliable"), "sentiment_shift_reliable"),
        *[
            pl.col(c).cast(pl.Float64).fill_null(0.0).clip(lower_bound=0).log1p().alias(f"log_{c}")
            for c in SECONDS_COLUMNS
        ],
        flag(pl.col("first_response_seconds").is_null(), "no_first_response"),
    )


def journey_risk_features(contacts: pl.DataFrame, as_of: datetime | None = None) -> pl.DataFrame:
    """One row per contact (input order): its conversation features plus its journey up to and including it.

    `contacts` holds SIGNAL_COLUMNS and JOURNEY_COLUMNS (metrics.contact_outcomes joined with
    signals.conversation_signals). Journey features use only the chain's contacts that started by this one (no
    look-ahead): contacts_so_far (chain_position), channel_switches_so_far, prior_unresolved_contacts,
    escalation_requests_so_far, log1p of this contact's cost and of the chain's cost so far (currency units),
    log1p hours since the previous contact's end (0 for the first) and since the journey's first start,
    pre_contact_friction (this contact's) and failure_demand_contacts_so_far; acted_on: 1 when an operators'
    action on the journey after this contact's start (acted_at, null for none) is known at the prediction time,
    the naive UTC instant `as_of` (scoring a day: its end) or, without it, the end of the day the contact ended
    (training: when the contact is first scored, see repeat_risk_table). Pass every chain from its first contact
    (read outcomes.chain_lookback_days back), or the "so far" sums undercount.
    """
    require_columns(contacts, (*SIGNAL_COLUMNS, *JOURNEY_COLUMNS), "contacts")
    # an action taken after the prediction time is not known then: reading it would leak the future
    known_by = (
        pl.lit(as_of, dtype=pl.Datetime("us"))
        if as_of is not None
        else pl.col("ended_at").dt.date().cast(pl.Datetime("us")) + timedelta(days=1)
    )
    acted_on = (
        naive_utc(contacts, ["ended_at", "acted_at"])
        .select((pl.col("acted_at").cast(pl.Datetime("us")) <= known_by).fill_null(False).cast(pl.Float64))
        .to_series()
        .alias("acted_on")
    )
    chain = "chain_id"
    cost = pl.col("cost").cast(pl.Float64).fill_null(0.0).clip(lower_bound=0)
    hours = 3600.0
    journey = (
        contacts.with_row_index("_row")
        .sort([chain, "started_at", "conversation_id"])
        .with_columns(
            (pl.col("channel") != pl.col("channel").shift(1)).fill_null(False).over(chain).alias("_switch"),
            (pl.col("disposition").fill_null("none") != "resolved")
            .shift(1)
            .fill_null(False)
            .over(chain)
            .alias("_open"),
            pl.col("ended_at").shift(1).over(chain).alias("_previous_end"),
            pl.col("started_at").first().over(chain).alias("_journey_start"),
        )
        .select(
            "_row",
            pl.col("chain_position").cast(pl.Float64).alias("contacts_so_far"),
            pl.col("_switch").cast(pl.Float64).cum_sum().over(chain).alias("channel_switches_so_far"),
            pl.col("_open").cast(pl.Float64).cum_sum().over(chain).alias("prior_unresolved_contacts"),
            pl.col("escalation_requests")
            .cast(pl.Float64)
            .fill_null(0.0)
            .cum_sum()
            .over(chain)
            .alias("escalation_requests_so_far"),
            cost.log1p().alias("log_cost"),
            cost.cum_sum().over(chain).log1p().alias("log_chain_cost_so_far"),
            ((pl.col("started_at") - pl.col("_previous_end")).dt.total_seconds() / hours)
            .fill_null(0.0)
            .clip(lower_bound=0)
            .log1p()
            .alias("log_hours_since_previous_contact"),
            ((pl.col("ended_at") - pl.col("_journey_start")).dt.total_seconds() / hours)
            .clip(lower_bound=0)
            .log1p()
            .alias("log_journey_hours_so_far"),
            pl.col("pre_contact_friction").fill_null(False).cast(pl.Float64),
            pl.col("pre_contact_friction")
            .fill_null(False)
            .cast(pl.Float64)
            .cum_sum()
            .over(chain)
            .alias("failure_demand_contacts_so_far"),
        )
        .sort("_row")
        .drop("_row")
        .with_columns(acted_on)
    )
    return pl.concat([conversation_features(contacts), journey], how="horizontal")


def end_of_day(day: date) -> datetime:
    """The naive UTC instant a daily partition ends (midnight after `day`)."""
    return datetime.combine(day + timedelta(days=1), time())


def naive_utc(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    # DuckDB hands back naive UTC timestamps; a zone-aware frame is brought to the same form to compare them.
    return frame.with_columns(
        pl.col(c).dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        for c in columns
        if isinstance(frame.schema[c], pl.Datetime) and frame.schema[c].time_zone is not None
    )


def labelled_contacts(contacts: pl.DataFrame, day: date, repeat_window_days: int) -> pl.DataFrame:
    """Contacts whose repeat window (R days after their end) closed by the end of `day`: their label is final."""
    require_columns(contacts, ["ended_at"], "contacts")
    window = timedelta(days=repeat_window_days)
    return naive_utc(contacts, ["ended_at"]).filter(pl.col("ended_at") + window <= end_of_day(day))


def open_journeys(contacts: pl.DataFrame, day: date, repeat_window_days: int) -> pl.DataFrame:
    """Each journey's latest contact ended by the end of `day` whose repeat window is still running then.

    Open here means the journey can still get a repeat contact, whatever its last disposition: a contact
    marked resolved that is followed by a repeat is the failure proactive service is for.
    """
    require_columns(contacts, ["chain_id", "conversation_id", "started_at", "ended_at"], "contacts")
    as_of, window = end_of_day(day), timedelta(days=repeat_window_days)
    return (
        naive_utc(contacts, ["started_at", "ended_at"])
        .filter(pl.col("ended_at") <= as_of)
        .sort(["chain_id", "started_at", "conversation_id"])
        .filter(pl.col("conversation_id") == pl.col("conversation_id").last().over("chain_id"))
        .filter(pl.col("ended_at") + window > as_of)
    )
