"""Conversation categories and scorecard answers: the rules file (categories.rules_file) compiled to SQL by
`cx_signals.categories`, one step writing both tables. The code version is the rules' content hash with the
compiler's, so that changed rules show the two tables (and the scores read from them) as changed in Dagster;
`cx-signals rescore` re-runs them over the days already loaded."""

import hashlib
import inspect

import dagster as dg
from dagster_duckdb import DuckDBResource

import cx_signals.categories as categories_module
from cx_signals.categories import compile_rules, load_rules, score_conversations
from cx_signals.config import Parameters
from cx_signals.db import day_batches, ensure_schema, sql_reads
from cx_signals.tables import all_tables
from dagster_defs.assets.raw import asset_key
from dagster_defs.assets.signals import write_frames
from dagster_defs.checks import contract_checks
from dagster_defs.common import partition_days
from dagster_defs.database_resources import WRITER_POOL
from dagster_defs.partitions import single_run

CATEGORY_TABLES = ("signals.conversation_categories", "signals.qa_answers")
RESCORE_JOB = "cx_rescore"


def rules_code_version(rules_hash: str) -> str:
    """The code version of the category assets: the rules' content hash and the compiler's source, hashed."""
    compiler = inspect.getsource(categories_module)
    return hashlib.sha256(f"{rules_hash}\n{compiler}".encode()).hexdigest()[:16]


def build_categories(config: Parameters, partitions: dg.PartitionsDefinition) -> tuple[list, list]:
    """The categories and scorecard answers asset (one step, two tables) and their contract checks."""
    rules = load_rules(config.categories.rules_file)
    compiled = compile_rules(rules)
    # the tables the compiled SQL reads, parsed as for the SQL assets
    reads = sql_reads(compiled.wide).tables | sql_reads(compiled.categories).tables
    deps = [asset_key(t) for t in sorted(reads) if t.split(".")[0] in ("raw", "signals", "metrics")]
    version = rules_code_version(rules.content_hash)
    specs = [
        dg.AssetSpec(
            asset_key(table),
            deps=deps,
            description=all_tables()[table].description,
            code_version=version,
            group_name="signals",
            kinds={"duckdb"},
            metadata={"rules_version": rules.version, "rules_hash": rules.content_hash},
        )
        for table in CATEGORY_TABLES
    ]

    @dg.multi_asset(
        specs=specs,
        name="conversation_categories",
        partitions_def=partitions,
        backfill_policy=single_run,
        pool=WRITER_POOL,
    )
    def conversation_categories(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        days = partition_days(context)
        with duckdb.get_connection() as con:
            ensure_schema(con)
            batches = (
                score_conversations(con, rules, batch[0], batch[-1])
                for batch in day_batches(days, config.storage.days_per_query)
            )
            yield from write_frames(
                context, con, CATEGORY_TABLES, days, batches, rules_version=rules.version, rules_hash=rules.content_hash
            )

    return [conversation_categories], contract_checks(list(CATEGORY_TABLES))


def build_rescore_job():
    """`cx_rescore`: the categories and scorecard answers and everything downstream of them (the scores, then
    publishing), for days already loaded: what `cx-signals rescore` runs after the rules change."""
    return dg.define_asset_job(
        RESCORE_JOB,
        selection=dg.AssetSelection.assets(*(asset_key(t) for t in CATEGORY_TABLES)).downstream(),
        description="Re-score the categories and QA scorecards of the days already loaded with the current rules "
        "(categories.rules_file), then publish.",
    )
