"""Bot outcomes against the generator's planted truth, on the shared end-to-end run (12 days x 500 customers)."""

import duckdb
import polars as pl

OUTCOMES = ("escalated", "confirmed_resolution", "assumed_resolution", "abandoned", "failed")


def test_every_bot_outcome_and_loop_count_is_the_planted_one(landing, database):
    """Every consented conversation with a bot (or IVR) turn gets the outcome the generator planted (`_truth/`
    bot_outcome: a handoff, a thanked fix, a fix taken without confirmation and no repeat contact, nobody answering
    the bot's fix, or a complaint about it) and as many bot loops as it planted (a second request to rephrase, the
    same fix again); no other conversation gets a bot outcome."""
    truth = pl.read_parquet(landing / "_truth" / "conversations.parquet").filter(
        pl.col("consent_analytics") & pl.col("bot_outcome").is_not_null()
    )
    planted = {row[0]: row[1:] for row in truth.select("conversation_id", "bot_outcome", "bot_loops").iter_rows()}
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute("SELECT conversation_id, outcome, bot_loops, failure_reason FROM signals.bot_outcomes")
        found = {cid: (outcome, loops) for cid, outcome, loops, _ in rows.fetchall()}
        reasons = dict(con.execute("SELECT failure_reason, count(*) FROM signals.bot_outcomes GROUP BY ALL").fetchall())
    assert found == planted
    counts = {outcome: sum(1 for o, _ in found.values() if o == outcome) for outcome in OUTCOMES}
    assert all(counts.values()), counts
    assert sum(1 for _, loops in found.values() if loops) >= 10
    # failures are told apart by their reason, and only failures have one
    assert reasons.keys() <= {None, "fallback", "complaint", "repeat_contact"}
    assert sum(n for reason, n in reasons.items() if reason is not None) == counts["failed"]
