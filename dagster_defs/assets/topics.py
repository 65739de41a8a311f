"""Emerging topics: each day, the unlabelled contacts the intent model cannot name, clustered on the text it reads
(cx_signals.ml.topics), with the contacts behind each topic."""

import json
from datetime import date, timedelta

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from cx_signals.config import Parameters
from cx_signals.db import day_batches, ensure_schema
from cx_signals.ml.topics import EarlierTopic, discover_topics
from cx_signals.tables import all_tables
from dagster_defs.assets.raw import asset_key
from dagster_defs.assets.signals import write_frames
from dagster_defs.assets.triage import first_texts
from dagster_defs.checks import contract_checks
from dagster_defs.common import partition_days
from dagster_defs.database_resources import WRITER_POOL
from dagster_defs.partitions import single_run

TOPICS = "signals.emerging_topics"
MEMBERS = "signals.emerging_topic_contacts"


def _contacts(con, first: date, last: date, n_turns: int) -> pl.DataFrame:
    """The consented conversations started in [first, last] with the first customer turns the intent model reads,
    whether the source labelled them, and the model's prediction and confidence."""
    texts = first_texts(con, first, last, n_turns, labelled_only=False)
    predictions = con.execute(
        "SELECT conversation_id, predicted_intent, confidence FROM signals.intent_predictions"
        " WHERE partition_date BETWEEN ? AND ?",
        [first, last],
    ).pl()
    return texts.join(predictions, on="conversation_id", how="left").with_columns(
        pl.col("intent").is_not_null().alias("labelled")
    )


def _earlier_topics(con, first: date, last: date) -> pl.DataFrame:
    """partition_date, topic_id, centroid_terms and first_seen of the stored topics of the days in [first, last]."""
    return con.execute(
        "SELECT partition_date, topic_id, centroid_terms, first_seen FROM signals.emerging_topics"
        " WHERE partition_date BETWEEN ? AND ?",
        [first, last],
    ).pl()


def _latest(earlier: pl.DataFrame) -> dict[str, EarlierTopic]:
    """Each topic's latest centroid and its first day."""
    latest = (
        earlier.sort("partition_date")
        .group_by("topic_id")
        .agg(pl.col("centroid_terms").last(), pl.col("first_seen").min())
    )
    return {
        row["topic_id"]: EarlierTopic(json.loads(row["centroid_terms"]), row["first_seen"])
        for row in latest.iter_rows(named=True)
    }


def build_topics(config: Parameters, partitions: dg.PartitionsDefinition) -> tuple[list, list]:
    """The emerging topics asset (signals.emerging_topics and signals.emerging_topic_contacts) with both tables'
    contract checks."""
    topics = config.topics
    reach = dg.TimeWindowPartitionMapping(
        start_offset=-(2 * topics.window_days - 1), end_offset=0, allow_nonexistent_upstream_partitions=True
    )
    upstream = ("raw.conversations", "raw.turns", "signals.intent_predictions")

    @dg.multi_asset(
        name="emerging_topics",
        specs=[
            dg.AssetSpec(
                asset_key(table),
                group_name="signals",
                kinds={"duckdb", "scikitlearn"},
                description=all_tables()[table].description,
                partitions_def=partitions,
                deps=[dg.AssetDep(asset_key(t), partition_mapping=reach) for t in upstream],
            )
            for table in (TOPICS, MEMBERS)
        ],
        partitions_def=partitions,
        backfill_policy=single_run,
        pool=WRITER_POOL,
        can_subset=False,
    )
    def emerging_topics(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        days = partition_days(context)
        with duckdb.get_connection() as con:
            ensure_schema(con)
            earlier = _earlier_topics(
                con, min(days) - timedelta(days=topics.match_lookback_days), min(days) - timedelta(days=1)
            )
            found, members = [], []
            for batch in day_batches(days, config.storage.days_per_query):
                first = batch[0] - timedelta(days=2 * topics.window_days - 1)
                contacts = _contacts(con, first, batch[-1], config.triage.first_customer_turns)
                for day in batch:
                    window = earlier.filter(
                        pl.col("partition_date").is_between(day - timedelta(days=topics.match_lookback_days), day)
                        & (pl.col("partition_date") < day)
                    )
                    day_topics, day_members = discover_topics(contacts, day, _latest(window), topics)
                    found.append(day_topics)
                    members.append(day_members)
                    earlier = pl.concat([earlier, day_topics.select(earlier.columns)], how="vertical_relaxed")
            # the topics of a day are few (clusters of the contacts the model could not place): one frame each
            yield from write_frames(context, con, [TOPICS, MEMBERS], days, [(pl.concat(found), pl.concat(members))])

    return [emerging_topics], contract_checks([TOPICS, MEMBERS])
