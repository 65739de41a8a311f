"""Signal assets computed in Python (turn sentiment), and the helpers the Python-computed tables share."""

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from typing import Any

import dagster as dg
import polars as pl
import pyarrow as pa
from dagster_duckdb import DuckDBResource

from cx_signals.config import Parameters
from cx_signals.db import (
    arrow_table,
    bind,
    day_batches,
    ensure_schema,
    map_distinct,
    replace_from_query,
    replace_rows,
    sql_hash,
    sql_text,
)
from cx_signals.sentiment import NEUTRAL, SentimentScore, score_texts
from cx_signals.tables import all_tables, qualified
from dagster_defs.assets.raw import asset_key
from dagster_defs.assets.sql_tables import upstream_tables
from dagster_defs.checks import contract_check
from dagster_defs.common import audit_days, partition_days, table_metadata
from dagster_defs.database_resources import WRITER_POOL
from dagster_defs.partitions import single_run


def _insert_frame(con, table: str, frame: pl.DataFrame) -> None:
    """Insert `frame`'s rows into `table`, its columns cast to the table's types through Arrow (a table column the
    frame lacks is null)."""
    schema = arrow_table(all_tables()[table], []).schema
    arrow = frame.to_arrow()
    data = pa.table(
        [arrow[f.name].cast(f.type) if f.name in arrow.column_names else pa.nulls(len(arrow), f.type) for f in schema],
        schema=schema,
    )
    con.register("_frame", data)
    con.execute(f"INSERT INTO {qualified(table)} BY NAME SELECT * FROM _frame")
    con.unregister("_frame")


def write_frames(
    context: dg.AssetExecutionContext,
    con,
    tables: Sequence[str],
    days: list[date],
    batches: Iterable[Sequence[pl.DataFrame]],
    notes: dict[date, str] | None = None,
    **extra: Any,
) -> list[dg.MaterializeResult]:
    """Replace the run's `days` of each of `tables` with the rows of `batches` (each a frame per table, in the order
    of `tables`) and write their audit rows, in one transaction; return each table's metadata.

    `batches` is consumed one batch at a time, so that a step computing a batch of days at a time holds one batch.
    `notes` says, per day, why nothing was written (a model that could not score it); it may be filled while the
    batches are computed, and reaches audit.runs and the asset's metadata.
    """
    written = dict.fromkeys(tables, 0)
    con.execute("BEGIN TRANSACTION")
    try:
        for table in tables:
            replace_rows(con, table, days, [])
        for frames in batches:
            for table, frame in zip(tables, frames, strict=True):
                if frame.height:
                    _insert_frame(con, table, frame)
                    written[table] += frame.height
        for table in tables:
            audit_days(con, context, table, days, notes)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    if notes:
        extra["days_skipped"] = dg.MetadataValue.md("\n".join(f"- {d}: {n}" for d, n in sorted(notes.items())))
    return [
        dg.MaterializeResult(
            asset_key=asset_key(table), metadata=table_metadata(con, table, days, written[table], **extra)
        )
        for table in tables
    ]


def write_frame(
    context: dg.AssetExecutionContext,
    con,
    table: str,
    days: list[date],
    frames: Iterable[pl.DataFrame],
    notes: dict[date, str] | None = None,
    **extra: Any,
) -> dg.MaterializeResult:
    """`write_frames` for one table: its rows come as a frame per batch of days."""
    return write_frames(context, con, [table], days, ([frame] for frame in frames), notes, **extra)[0]


def scored_days(
    days: list[date],
    days_per_query: int,
    model: Any,
    missing_note: str,
    read: Callable[[date, date], pl.DataFrame],
    score: Callable[[pl.DataFrame, date], pl.DataFrame | None],
    notes: dict[date, str],
) -> Iterator[pl.DataFrame]:
    """The rows of `score(frame, day)` (a frame, or None for nothing) of every day, a batch of days at a time:
    `frame` is `read(first, last)` of the day's batch. Per day in `notes`, why nothing was scored: `missing_note`
    without a model, or the model's failure on that day (a failure to read fails the step)."""
    for batch in day_batches(days, days_per_query):
        if model is None:
            notes.update(dict.fromkeys(batch, missing_note))
            continue
        frame = read(batch[0], batch[-1])
        for day in batch:
            try:
                scored = score(frame, day)
            except Exception as exc:  # one day the model cannot score never takes the run down
                notes[day] = f"not scored: {type(exc).__name__}: {exc}"
                continue
            if scored is not None:
                yield scored


def windowed(chain_window: dg.PartitionMapping, *tables: str) -> list[dg.AssetDep]:
    """Dependencies on `tables` over the repeat-chain window of days around each partition."""
    return [dg.AssetDep(asset_key(t), partition_mapping=chain_window) for t in tables]


def chain_window(config: Parameters) -> dg.TimeWindowPartitionMapping:
    """A journey starting on day D takes in contacts up to the chain window after D (and before, to find its
    start)."""
    days = config.outcomes.chain_lookback_days
    return dg.TimeWindowPartitionMapping(
        start_offset=-days, end_offset=days, allow_nonexistent_upstream_partitions=True
    )


def common_settings(partitions: dg.PartitionsDefinition, group: str) -> dict[str, Any]:
    """Partitions, backfill policy, writer pool, group and kind shared by the DuckDB assets of `group`."""
    return {
        "partitions_def": partitions,
        "backfill_policy": single_run,
        "pool": WRITER_POOL,
        "group_name": group,
        "kinds": {"duckdb"},
    }


def _score_table(texts: list[str | None], scores: list[SentimentScore]) -> pa.Table:
    """Texts beside their VADER scores (compound, pos, neu, neg), the `_scores` that turn_sentiment.sql joins."""
    columns = {n: pa.array([s[i] for s in scores], pa.float64()) for i, n in enumerate(NEUTRAL._fields)}
    return pa.table({"text": pa.array(texts, pa.string()), **columns})


def build_signals(config: Parameters, partitions: dg.PartitionsDefinition) -> tuple[list, list]:
    """Turn sentiment (VADER in Python, over sql/signals/turn_texts.sql) with its check; the SQL signal tables are
    built from their contracts (dagster_defs/assets/sql_tables.py)."""
    sentiment = config.sentiment
    table = "signals.turn_sentiment"

    @dg.asset(
        key=asset_key(table),
        deps=[asset_key(t) for t in upstream_tables("signals/turn_texts")],
        description=f"{all_tables()[table].description} (VADER over sql/signals/turn_texts.sql)",
        code_version=sql_hash("signals/turn_texts")[:8] + sql_hash("signals/turn_sentiment")[:8],
        **common_settings(partitions, "signals"),
    )
    def turn_sentiment(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        days = partition_days(context)
        with duckdb.get_connection() as con:
            ensure_schema(con)
            # Each distinct text is scored once in Python; DuckDB fans the scores out to the turns, so no turn row
            # passes through Python.
            texts_sql = sql_text("signals/turn_texts")
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE _turn_texts AS {texts_sql}",
                bind(texts_sql, {"start_date": min(days), "end_date": max(days)}),
            )

            def score(texts: list[str]) -> pa.Table:
                scores = score_texts(texts, max_chars=sentiment.max_chars, max_emoji=sentiment.max_emoji)
                return _score_table(texts, scores)

            distinct = map_distinct(con, "SELECT text AS v FROM _turn_texts", "_scores", score)
            # a turn without text gets NEUTRAL, joined like any other text (sql/signals/turn_sentiment.sql)
            _no_text = _score_table([None], [NEUTRAL])
            con.execute("INSERT INTO _scores SELECT * FROM _no_text")
            con.execute("BEGIN TRANSACTION")
            written = replace_from_query(con, table, days, "signals/turn_sentiment", {}, config.storage.days_per_query)
            audit_days(con, context, table, days)
            con.execute("COMMIT")
            con.execute("DROP TABLE _scores")
            con.execute("DROP TABLE _turn_texts")
            return dg.MaterializeResult(metadata=table_metadata(con, table, days, written, distinct_texts=distinct))

    return [turn_sentiment], [contract_check(table)]
