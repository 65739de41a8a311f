"""Signal assets: turn sentiment (VADER, in Python) and the SQL-defined conversation and session signals."""

from datetime import date
from typing import Any

import dagster as dg
import polars as pl
import pyarrow as pa
from dagster_duckdb import DuckDBResource

from cx_signals.config import sql_parameters
from cx_signals.db import arrow_table, ensure_schema, record_audit, replace_from_query, replace_rows
from cx_signals.sentiment import NEUTRAL, score_texts
from cx_signals.tables import all_tables, qualified
from dagster_defs.assets.raw import asset_key
from dagster_defs.checks import contract_checks
from dagster_defs.common import code_version, partition_days, table_metadata
from dagster_defs.database_resources import WRITER_POOL
from dagster_defs.partitions import single_run


def audit_days(con, context: dg.AssetExecutionContext, table: str, days, notes: dict[date, str] | None = None) -> None:
    """Record in audit.runs the rows this run wrote to `table` on each of `days`, with any note on why a day is
    empty."""
    counts = dict(
        con.execute(
            f"SELECT partition_date, count(*) FROM {table} WHERE partition_date BETWEEN ? AND ? GROUP BY ALL",
            [min(days), max(days)],
        ).fetchall()
    )
    record_audit(
        con,
        context.run.run_id,
        table,
        {d: {"rows_written": counts.get(d, 0), "note": (notes or {}).get(d)} for d in days},
        code_version(),
    )


def write_frame(
    context: dg.AssetExecutionContext,
    con,
    table: str,
    days,
    frame: pl.DataFrame,
    notes: dict[date, str] | None = None,
    **extra: Any,
) -> dg.MaterializeResult:
    """Replace the run's `days` of `table` with the rows of `frame` and their audit rows in one transaction; report
    metadata.

    The frame's columns are cast to the table's types and inserted through Arrow (a table column the frame lacks is
    null). `notes` says, per day, why nothing was written (a model that could not score it); it reaches audit.runs
    and the asset's metadata.
    """
    schema = arrow_table(all_tables()[table], []).schema
    arrow = frame.to_arrow()
    data = pa.table(
        [arrow[f.name].cast(f.type) if f.name in arrow.column_names else pa.nulls(len(arrow), f.type) for f in schema],
        schema=schema,
    )
    con.register("_frame", data)
    con.execute("BEGIN TRANSACTION")
    replace_rows(con, table, days, [])
    con.execute(f"INSERT INTO {qualified(table)} BY NAME SELECT * FROM _frame")
    audit_days(con, context, table, days, notes)
    con.execute("COMMIT")
    con.unregister("_frame")
    if notes:
        extra["days_skipped"] = dg.MetadataValue.md("\n".join(f"- {d}: {n}" for d, n in sorted(notes.items())))
    return dg.MaterializeResult(metadata=table_metadata(con, table, days, frame.height, **extra))


def windowed(chain_window: dg.PartitionMapping, *tables: str) -> list[dg.AssetDep]:
    """Dependencies on `tables` over the repeat-chain window of days around each partition."""
    return [dg.AssetDep(asset_key(t), partition_mapping=chain_window) for t in tables]


def chain_window(config: dict[str, Any]) -> dg.TimeWindowPartitionMapping:
    """A journey starting on day D takes in contacts up to the chain window after D (and before, to find its
    start)."""
    days = config["outcomes"]["chain_lookback_days"]
    return dg.TimeWindowPartitionMapping(
        start_offset=-days, end_offset=days, allow_nonexistent_upstream_partitions=True
    )


def query_asset(
    table: str,
    sql_name: str,
    deps: list,
    description: str,
    config: dict[str, Any],
    common: dict[str, Any],
    views: dict | None = None,
) -> dg.AssetsDefinition:
    """An asset that replaces its partitions of `table` with `sql/<sql_name>.sql`, audits them and reports
    metadata. `views` maps names to Arrow tables registered for the query (e.g. the cost model from config)."""
    parameters = sql_parameters(config)

    @dg.asset(key=asset_key(table), deps=deps, description=description, **common)
    def materialise(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
        days = partition_days(context)
        with duckdb.get_connection() as con:
            ensure_schema(con)
            for name, data in (views or {}).items():
                con.register(name, data)
            con.execute("BEGIN TRANSACTION")
            written = replace_from_query(con, table, days, sql_name, parameters)
            audit_days(con, context, table, days)
            con.execute("COMMIT")
            return dg.MaterializeResult(metadata=table_metadata(con, table, days, written))

    return materialise


def common_settings(partitions: dg.PartitionsDefinition, group: str) -> dict[str, Any]:
    """Partitions, backfill policy, writer pool, group and kind shared by the DuckDB assets of `group`."""
    return {
        "partitions_def": partitions,
        "backfill_policy": single_run,
        "pool": WRITER_POOL,
        "group_name": group,
        "kinds": {"duckdb"},
    }


def build_signals(config: dict[str, Any], partitions: dg.PartitionsDefinition) -> tuple[list, list]:
    """Turn sentiment, conversation signals, session friction, journeys and friction alerts, with their checks."""
    common = common_settings(partitions, "signals")
    sentiment = config["sentiment"]
    window = chain_window(config)

    @dg.asset(
        key=asset_key("signals.turn_sentiment"),
        deps=[asset_key("raw.turns"), asset_key("raw.conversations")],
        description="VADER compound, pos, neu, neg for every turn of consented conversations.",
        **common,
    )
    def turn_sentiment(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        days = partition_days(context)
        with duckdb.get_connection() as con:
            ensure_schema(con)
            # Each distinct text is scored once in Python; DuckDB fans the scores out to the turns, so no turn row
            # passes through Python.
            con.execute(
                """
                CREATE OR REPLACE TEMP TABLE _turn_texts AS
                SELECT t.partition_date, t.conversation_id, t.turn_index, t.speaker, t.text
                FROM raw.turns AS t JOIN raw.conversations AS c USING (conversation_id)
                WHERE t.partition_date BETWEEN ? AND ?
                  AND c.customer_key NOT IN (SELECT customer_key FROM main.refused_customers)
                """,
                [min(days), max(days)],
            )
            texts = (
                con.execute("SELECT DISTINCT text FROM _turn_texts WHERE text IS NOT NULL")
                .to_arrow_table()
                .column("text")
                .to_pylist()
            )
            scores = score_texts(texts, max_chars=sentiment["max_chars"], max_emoji=sentiment["max_emoji"])
            scored = pa.table(
                {
                    "text": pa.array(texts, pa.string()),
                    **{name: pa.array([s[i] for s in scores], pa.float64()) for i, name in enumerate(NEUTRAL._fields)},
                }
            )
            con.register("_scores", scored)
            has_null = con.execute("SELECT count(*) FILTER (WHERE text IS NULL) > 0 FROM _turn_texts").fetchone()[0]
            neutral = ", ".join(
                f"CASE WHEN t.text IS NULL THEN {float(value)!r} ELSE s.{name} END AS {name}"
                for name, value in NEUTRAL._asdict().items()
            )
            table = "signals.turn_sentiment"
            con.execute("BEGIN TRANSACTION")
            replace_rows(con, table, days, [])
            written = con.execute(
                f"""
                INSERT INTO {table} BY NAME
                SELECT t.partition_date, t.conversation_id, t.turn_index, t.speaker, {neutral}
                FROM _turn_texts AS t LEFT JOIN _scores AS s ON s.text = t.text
                """
            ).fetchone()[0]
            audit_days(con, context, table, days)
            con.execute("COMMIT")
            con.unregister("_scores")
            con.execute("DROP TABLE _turn_texts")
            return dg.MaterializeResult(
                metadata=table_metadata(con, table, days, written, distinct_texts=len(texts) + int(has_null))
            )

    assets = [
        turn_sentiment,
        query_asset(
            "signals.conversation_signals",
            "signals/conversation_signals",
            [asset_key("signals.turn_sentiment"), asset_key("raw.conversation_events")],
            "Per-conversation sentiment, talk, silence, interruption, handoff, escalation and effort "
            "signals (sql/signals/conversation_signals.sql).",
            config,
            common,
        ),
        query_asset(
            "signals.session_friction",
            "signals/session_friction",
            [asset_key("raw.events"), asset_key("raw.telemetry"), asset_key("raw.conversations")],
            "Sessions with rage, dead and error clicks, form errors, quick backs, slow pages, crashes, "
            "help views and the friction score (sql/signals/session_friction.sql).",
            config,
            common,
        ),
        query_asset(
            "signals.journeys",
            "signals/journeys",
            windowed(window, "signals.conversation_signals", "signals.intent_predictions", "signals.session_friction"),
            "Each customer's contacts on one issue (a repeat chain) with the sessions and errors before and "
            "between them, pre-contact friction and channel switches (sql/signals/journeys.sql).",
            config,
            common,
        ),
        query_asset(
            "signals.friction_alerts",
            "signals/friction_alerts",
            windowed(
                window,
                "signals.conversation_signals",
                "signals.intent_predictions",
                "signals.session_friction",
                "signals.turn_sentiment",
                "raw.turns",
                "raw.events",
            ),
            "Open conversations, journeys and sessions crossing a threshold, with the reason and the time: "
            "the list to act on now (sql/signals/friction_alerts.sql).",
            config,
            common,
        ),
    ]
    checks = contract_checks(
        [
            "signals.turn_sentiment",
            "signals.conversation_signals",
            "signals.session_friction",
            "signals.journeys",
            "signals.friction_alerts",
        ]
    )
    return assets, checks
