"""Signal assets: turn sentiment (VADER, in Python) and the SQL-defined conversation and session signals."""

from typing import Any

import dagster as dg
from dagster_duckdb import DuckDBResource

from cx_signals.config import load_config, sql_parameters
from cx_signals.db import ensure_schema, record_audit, replace_from_query, replace_rows
from cx_signals.sentiment import score_texts
from dagster_defs.assets.raw import asset_key
from dagster_defs.checks import contract_checks
from dagster_defs.common import code_version, partition_days, table_metadata
from dagster_defs.partitions import daily_partitions, single_run
from dagster_defs.resources import WRITER_POOL, CxSettings

_COMMON = {
    "partitions_def": daily_partitions,
    "backfill_policy": single_run,
    "pool": WRITER_POOL,
    "group_name": "signals",
    "kinds": {"duckdb"},
}


@dg.asset(
    key=asset_key("signals.turn_sentiment"),
    deps=[asset_key("raw.turns"), asset_key("raw.conversations")],
    description="VADER compound, pos, neu, neg for every turn of consented conversations.",
    **_COMMON,
)
def turn_sentiment(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CxSettings):
    days = partition_days(context)
    sentiment = settings.config()["sentiment"]
    with duckdb.get_connection() as con:
        ensure_schema(con)
        turns = con.execute(
            """
            SELECT t.partition_date, t.conversation_id, t.turn_index, t.speaker, t.text
            FROM raw.turns AS t JOIN raw.conversations AS c USING (conversation_id)
            WHERE t.partition_date BETWEEN ? AND ? AND c.consent_analytics
            """,
            [min(days), max(days)],
        ).fetchall()
        scores = score_texts(
            [row[4] for row in turns], max_chars=sentiment["max_chars"], max_emoji=sentiment["max_emoji"]
        )
        rows = [
            {
                "partition_date": day,
                "conversation_id": cid,
                "turn_index": index,
                "speaker": speaker,
                "compound": s.compound,
                "pos": s.pos,
                "neu": s.neu,
                "neg": s.neg,
            }
            for (day, cid, index, speaker, _), s in zip(turns, scores, strict=True)
        ]
        return write_rows(context, con, "signals.turn_sentiment", days, rows, distinct_texts=len({r[4] for r in turns}))


def audit_days(con, context: dg.AssetExecutionContext, table: str, days) -> None:
    """Record in audit.runs the rows this run wrote to `table` on each of `days`."""
    counts = dict(
        con.execute(
            f"SELECT partition_date, count(*) FROM {table} WHERE partition_date BETWEEN ? AND ? GROUP BY ALL",
            [min(days), max(days)],
        ).fetchall()
    )
    record_audit(con, context.run.run_id, table, {d: {"rows_written": counts.get(d, 0)} for d in days}, code_version())


def write_rows(
    context: dg.AssetExecutionContext, con, table: str, days, rows: list[dict], **extra: Any
) -> dg.MaterializeResult:
    """Replace the run's `days` of `table` with `rows` and their audit rows in one transaction; report metadata."""
    con.execute("BEGIN TRANSACTION")
    written = replace_rows(con, table, days, rows)
    audit_days(con, context, table, days)
    con.execute("COMMIT")
    return dg.MaterializeResult(metadata=table_metadata(con, table, days, written, **extra))


def materialise_query(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    settings: CxSettings,
    table: str,
    sql_name: str,
    views: dict | None = None,
) -> dg.MaterializeResult:
    """Replace the run's partitions of `table` with `sql/<sql_name>.sql`, audit them and report metadata.

    `views` maps names to Arrow tables registered for the query (e.g. the cost model from config).
    """
    days = partition_days(context)
    with duckdb.get_connection() as con:
        ensure_schema(con)
        for name, data in (views or {}).items():
            con.register(name, data)
        con.execute("BEGIN TRANSACTION")
        written = replace_from_query(con, table, days, sql_name, sql_parameters(settings.config()))
        audit_days(con, context, table, days)
        con.execute("COMMIT")
        return dg.MaterializeResult(metadata=table_metadata(con, table, days, written))


@dg.asset(
    key=asset_key("signals.conversation_signals"),
    deps=[asset_key("signals.turn_sentiment"), asset_key("raw.conversation_events")],
    description="Per-conversation sentiment, talk, silence, interruption, handoff, escalation and effort "
    "signals (sql/signals/conversation_signals.sql).",
    **_COMMON,
)
def conversation_signals(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CxSettings):
    return materialise_query(context, duckdb, settings, "signals.conversation_signals", "signals/conversation_signals")


@dg.asset(
    key=asset_key("signals.session_friction"),
    deps=[asset_key("raw.events"), asset_key("raw.telemetry"), asset_key("raw.conversations")],
    description="Sessions with rage, dead and error clicks, form errors, quick backs, slow pages, crashes, "
    "help views and the friction score (sql/signals/session_friction.sql).",
    **_COMMON,
)
def session_friction(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CxSettings):
    return materialise_query(context, duckdb, settings, "signals.session_friction", "signals/session_friction")


_CHAIN_DAYS = load_config()["outcomes"]["chain_lookback_days"]
# A journey starting on day D takes in contacts up to the chain window after D (and before, to find its start).
CHAIN_WINDOW = dg.TimeWindowPartitionMapping(
    start_offset=-_CHAIN_DAYS, end_offset=_CHAIN_DAYS, allow_nonexistent_upstream_partitions=True
)


def windowed(*tables: str) -> list[dg.AssetDep]:
    """Dependencies on `tables` over the repeat-chain window of days around each partition."""
    return [dg.AssetDep(asset_key(t), partition_mapping=CHAIN_WINDOW) for t in tables]


@dg.asset(
    key=asset_key("signals.journeys"),
    deps=windowed("signals.conversation_signals", "signals.intent_predictions", "signals.session_friction"),
    description="Each customer's contacts on one issue (a repeat chain) with the sessions and errors before and "
    "between them, pre-contact friction and channel switches (sql/signals/journeys.sql).",
    **_COMMON,
)
def journeys(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CxSettings):
    return materialise_query(context, duckdb, settings, "signals.journeys", "signals/journeys")


@dg.asset(
    key=asset_key("signals.friction_alerts"),
    deps=windowed(
        "signals.conversation_signals",
        "signals.intent_predictions",
        "signals.session_friction",
        "signals.turn_sentiment",
        "raw.turns",
        "raw.events",
    ),
    description="Open conversations, journeys and sessions crossing a threshold, with the reason and the time: "
    "the list to act on now (sql/signals/friction_alerts.sql).",
    **_COMMON,
)
def friction_alerts(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CxSettings):
    return materialise_query(context, duckdb, settings, "signals.friction_alerts", "signals/friction_alerts")


signal_assets = [turn_sentiment, conversation_signals, session_friction, journeys, friction_alerts]
signal_checks = contract_checks(
    [
        "signals.turn_sentiment",
        "signals.conversation_signals",
        "signals.session_friction",
        "signals.journeys",
        "signals.friction_alerts",
    ]
)
