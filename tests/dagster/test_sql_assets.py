"""The SQL assets built from the contracts: lineage parsed from the SQL, windows, metadata, code versions."""

import re
from datetime import date

import dagster as dg
import pytest

from cx_signals.config import load_config
from cx_signals.contracts import table_contracts
from cx_signals.db import sql_hash, sql_reads, sql_text
from cx_signals.tables import all_tables
from dagster_defs.assets import sql_tables
from dagster_defs.assets.sql_tables import ASSET_SCHEMAS, sql_contracts, upstream_tables
from dagster_defs.definitions import build_definitions

CONFIG = load_config()
# A table name as it can be written in SQL, for a scan that does not parse: schema.table of a schema assets write.
_NAMED_TABLE = re.compile(rf"\b((?:{'|'.join(ASSET_SCHEMAS)})\.[a-z_]+)\b")


@pytest.fixture(scope="module")
def graph():
    return build_definitions(CONFIG, date(2026, 1, 1), "cx_data/cx.duckdb", "cx_data/landing").resolve_asset_graph()


def key(table: str) -> dg.AssetKey:
    return dg.AssetKey(table.split("."))


def named_tables(sql_name: str) -> set[str]:
    """The asset tables a SQL file and the shared definitions it uses name outside comments, found by a plain text
    scan (independent of the DuckDB parse behind the lineage)."""
    texts = [sql_text(sql_name), *(sql_text(f"setup/{f}") for f in ("identity", "consent", "contacts"))]
    used = sql_reads(sql_text(sql_name)).definitions
    names: set[str] = set()
    for text in texts:
        for statement in text.split(";"):
            code = re.sub(r"--[^\n]*", "", statement)
            defined = re.search(r"CREATE OR REPLACE (?:MACRO|VIEW) (?:main\.)?(\w+)", code)
            if text is texts[0] or (defined and defined.group(1) in used and defined.group(1) != "customer_records"):
                names |= {n for n in _NAMED_TABLE.findall(code) if n in all_tables()}
    return names


def test_every_contract_naming_a_sql_file_is_an_asset_with_its_contract_check(graph):
    contracts = sql_contracts()
    assert set(contracts) >= {"signals.conversation_signals", "metrics.contact_outcomes", "metrics.daily_outcomes"}
    for table in contracts:
        assert graph.has(key(table)), table
        assert dg.AssetCheckKey(key(table), "matches_contract") in graph.asset_check_keys


@pytest.mark.parametrize("table", sorted(sql_contracts()))
def test_the_declared_lineage_is_every_table_the_sql_reads(graph, table):
    """Fails when a SQL file reads a table its asset does not depend on, or the asset depends on a table the SQL does
    not read: the dependencies are compared with a plain scan of the SQL and the shared definitions it uses."""
    sql_name = table_contracts()[table].sql
    declared = {".".join(k.path) for k in graph.get(key(table)).parent_keys}
    assert declared == set(upstream_tables(sql_name))
    assert declared == named_tables(sql_name), f"sql/{sql_name}.sql and the lineage of {table} differ"


def test_conversation_signals_depends_on_the_raw_turns_and_conversations_it_reads(graph):
    parents = graph.get(key("signals.conversation_signals")).parent_keys
    assert {key("raw.turns"), key("raw.conversations"), key("signals.turn_sentiment")} <= parents
    assert key("raw.turns") in graph.get(key("signals.turn_sentiment")).parent_keys


def test_sql_reads_follows_the_parse_not_the_text():
    sql = """
        -- raw.telemetry is only named in this comment
        WITH raw_events AS (SELECT * FROM raw.events), turns AS (SELECT 1 AS x)
        SELECT 'raw.turns' AS label, * FROM turns, raw_events, cost_model
        WHERE consented(customer_key) AND event_id IN (SELECT conversation_id FROM signals.journeys)
    """
    reads = sql_reads(sql)
    assert reads.tables == {"raw.events", "signals.journeys", "raw.conversations", "audit.consent_refusals"}
    assert reads.definitions == {"consented", "refused_customers"}
    chains = sql_reads("SELECT * FROM repeat_chains(DATE '2026-01-01', DATE '2026-01-02', 7)")
    assert {"signals.conversation_signals", "signals.intent_predictions"} <= chains.tables
    assert {"contacts", "continues_chain", "contact_intent"} <= chains.definitions
    # customer_records() finds a customer's rows in derived tables without reading their values
    assert sql_reads("SELECT * FROM main.refused_records").tables == {"raw.conversations", "audit.consent_refusals"}
    with pytest.raises(ValueError, match="cannot parse SQL"):
        sql_reads("SELECT FROM WHERE")


def test_a_sql_file_reading_a_table_no_contract_defines_is_an_error(monkeypatch):
    monkeypatch.setattr(sql_tables, "sql_text", lambda name: "SELECT * FROM signals.journey JOIN raw.turns USING (x)")
    with pytest.raises(ValueError, match=r"reads signals\.journey, which no contract defines"):
        sql_tables.upstream_tables("signals/typo")


def test_windows_come_from_the_contracts(graph):
    lookback = CONFIG["outcomes"]["chain_lookback_days"]
    identity = CONFIG["sessions"]["identity_lookback_days"]
    expected = {
        ("signals.journeys", "signals.conversation_signals"): (-lookback, lookback),
        ("metrics.contact_outcomes", "signals.session_friction"): (-lookback, lookback),
        ("signals.session_friction", "raw.events"): (-identity, identity),
        ("metrics.journey_priorities", "metrics.contact_outcomes"): (-(CONFIG["priorities"]["window_days"] - 1), 0),
        ("metrics.outcome_anomalies", "metrics.daily_outcomes"): (-CONFIG["anomalies"]["baseline_days"], 0),
    }
    for (table, upstream), offsets in expected.items():
        mapping = graph.get(key(table)).partition_mappings[key(upstream)]
        assert (mapping.start_offset, mapping.end_offset) == offsets
    assert key("metrics.contact_outcomes") not in graph.get(key("metrics.daily_outcomes")).partition_mappings


def test_assets_carry_the_contract_description_column_schema_and_sql_hash(graph):
    for table, contract in sql_contracts().items():
        node = graph.get(key(table))
        assert node.description.startswith(all_tables()[table].description)
        assert node.code_version == sql_hash(contract.sql)[:16]
        assert node.metadata["dagster/table_name"] == table
    # every table asset, not only the SQL ones, shows its columns
    for table in ("raw.turns", "signals.turn_sentiment", "metrics.repeat_risk", "signals.journeys"):
        schema = graph.get(key(table)).metadata["dagster/column_schema"]
        assert [(c.name, c.type) for c in schema.columns] == [(c.name, c.type) for c in all_tables()[table].columns]
    assert sql_hash("signals/journeys") != sql_hash("metrics/contact_outcomes")


def test_publishing_follows_every_step_that_nothing_else_reads(graph):
    retention = graph.get(dg.AssetKey(["published", "retention"])).parent_keys
    assert {key("signals.journeys"), key("metrics.intervention_effects"), key("metrics.model_fairness")} <= retention
    assert key("metrics.contact_outcomes") not in retention  # read by later steps, so done before them
    table_assets = {k for k in graph.get_all_asset_keys() if ".".join(k.path) in all_tables()}
    for asset in table_assets:
        assert asset in retention or graph.get(asset).child_keys, asset
