"""Predicted CSAT and repeat risk: features, baselines, leakage, look-ahead, determinism, tables and artefacts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from cx_signals.ml import NotEnoughLabels
from cx_signals.ml.artefacts import load_latest_model, save_model
from cx_signals.ml.contact_models import (
    CsatModel,
    RiskModel,
    csat_predictions_table,
    repeat_risk_table,
    risk_factors,
    score_csat,
    score_repeat_risk,
    train_csat_model,
    train_repeat_risk,
)
from cx_signals.ml.features import (
    SIGNAL_COLUMNS,
    conversation_features,
    journey_risk_features,
    labelled_contacts,
    open_journeys,
)

T0 = datetime(2024, 3, 1, 9)


def make_signals(n: int, seed: int = 0) -> pl.DataFrame:
    """Random conversation signals (every SIGNAL_COLUMNS column, plus partition_date and csat = null)."""
    rng = np.random.default_rng(seed)
    sentiment = rng.uniform(-1, 1, n)
    no_customer = rng.random(n) < 0.05
    timed = rng.random(n) < 0.3

    def maybe(values: np.ndarray, missing: np.ndarray) -> list[float | None]:
        return [None if m else float(v) for v, m in zip(values, missing, strict=True)]

    return pl.DataFrame(
        {
            "partition_date": [date(2024, 3, 1)] * n,
            "conversation_id": [f"C{i:05d}" for i in range(n)],
            "channel": rng.choice(["chat", "voice", "email", "messaging", "social"], n).tolist(),
            "intent": [
                None if r < 0.1 else str(i)
                for r, i in zip(rng.random(n), rng.choice(["billing", "refund"], n), strict=True)
            ],
            "disposition": rng.choice(
                ["resolved", "unresolved", "abandoned", None], n, p=[0.6, 0.25, 0.1, 0.05]
            ).tolist(),
            **{c: rng.integers(0, 6, n) for c in ("customer_turns", "agent_turns", "bot_turns")},
            **{
                c: rng.poisson(0.5, n)
                for c in (
                    *("longest_negative_streak", "handoffs", "transfers", "interruptions"),
                    *("escalation_requests", "repetitions", "effort_cues"),
                )
            },
            "sentiment_start": maybe(sentiment + rng.normal(0, 0.2, n), no_customer),
            "sentiment_end": maybe(sentiment, no_customer),
            "sentiment_shift": maybe(rng.normal(0, 0.3, n), no_customer),
            "sentiment_min": maybe(sentiment - 0.3, no_customer),
            "customer_sentiment_mean": maybe(sentiment, no_customer),
            "sentiment_shift_reliable": rng.random(n) < 0.5,
            "duration_seconds": rng.exponential(600, n),
            "hold_seconds": rng.exponential(60, n),
            "non_talk_seconds": maybe(rng.exponential(90, n), ~timed),
            "first_response_seconds": maybe(rng.exponential(30, n), rng.random(n) < 0.1),
            "csat": pl.Series([None] * n, dtype=pl.Int64),
        },
        schema_overrides={"disposition": pl.String},
    )


def planted_csat(signals: pl.DataFrame, seed: int = 0, surveyed: float = 0.3) -> pl.Series:
    """CSAT driven by disposition, transfers and end sentiment, on a random `surveyed` share of rows."""
    rng = np.random.default_rng(seed)
    mu = (
        4.3
        - 1.5 * (signals["disposition"] != "resolved").fill_null(True).to_numpy()
        - 0.5 * signals["transfers"].to_numpy()
        + 0.8 * signals["sentiment_end"].fill_null(0).to_numpy()
    )
    score = np.clip(np.round(mu + rng.normal(0, 0.5, len(mu))), 1, 5)
    return pl.Series("csat", np.where(rng.random(len(mu)) < surveyed, score, np.nan)).fill_nan(None).cast(pl.Int64)


def make_contacts(n_chains: int, seed: int = 0) -> pl.DataFrame:
    """Chains of 1-3 contacts with signals, outcomes columns and a repeat label planted on disposition."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_chains):
        start = T0 + timedelta(hours=int(rng.integers(0, 24 * 20)))
        length = int(rng.integers(1, 4))
        for position in range(1, length + 1):
            rows.append(
                {
                    "chain_id": f"J{c:04d}-1",
                    "customer_key": f"K{c:04d}",
                    "chain_position": position,
                    "started_at": start,
                    "ended_at": start + timedelta(minutes=20),
                    "cost": float(rng.uniform(0.5, 20)),
                    "pre_contact_friction": bool(rng.random() < 0.2),
                    "repeat_contact": position < length,
                    "acted_at": None,
                }
            )
            start += timedelta(days=float(rng.uniform(0.5, 5)))
    outcomes = pl.DataFrame(rows, schema_overrides={"acted_at": pl.Datetime("us")})
    signals = make_signals(outcomes.height, seed).drop("partition_date", "csat")
    contacts = pl.concat([signals, outcomes], how="horizontal")
    # A repeat follows an unresolved contact far more often: the generator's rule.
    disposition = np.where(contacts["repeat_contact"].to_numpy(), "unresolved", "resolved")
    flip = rng.random(contacts.height) < 0.25
    disposition = np.where(flip, np.where(disposition == "resolved", "unresolved", "resolved"), disposition)
    return contacts.with_columns(disposition=pl.Series(disposition))


def test_conversation_features_impute_and_never_read_csat():
    signals = make_signals(50).with_columns(csat=pl.lit(5, dtype=pl.Int64))
    features = conversation_features(signals)
    assert features.height == 50
    assert features["conversation_id"].to_list() == signals["conversation_id"].to_list()
    assert not any("csat" in c for c in features.columns)
    assert features.drop("conversation_id").null_count().sum_horizontal().item() == 0
    assert {"channel=voice", "intent=billing", "intent=unknown", "disposition=none"} <= set(features.columns)
    silent = signals["customer_sentiment_mean"].is_null()
    assert (features.filter(silent)["sentiment_end"] == 0).all()
    assert (features.filter(silent)["no_customer_sentiment"] == 1).all()
    assert (features.filter(~silent)["no_customer_sentiment"] == 0).all()
    with pytest.raises(ValueError, match="intent"):
        conversation_features(signals.drop("intent"))


def test_csat_model_beats_the_mean_predictor_on_held_out_rows():
    signals = make_signals(1200)
    csat = planted_csat(signals)
    model = train_csat_model(conversation_features(signals), csat)
    m = model.metrics
    assert m["mae"] < 0.8 * m["baseline_mae"]
    assert m["mae_improvement"] == pytest.approx(m["baseline_mae"] - m["mae"])
    assert m["n_train"] + m["n_test"] == m["n_surveyed"] == csat.count()
    assert m["coverage_surveyed"] == pytest.approx(csat.count() / 1200)
    assert "csat" not in model.feature_names
    predicted = score_csat(model, conversation_features(signals))
    assert predicted.shape == (1200,)
    assert ((predicted >= 1) & (predicted <= 5)).all()


def test_csat_on_pure_noise_does_not_claim_to_beat_the_mean():
    signals = make_signals(1200)
    noise = pl.Series(np.random.default_rng(1).integers(1, 6, 1200))
    m = train_csat_model(conversation_features(signals), noise).metrics
    assert m["mae_improvement_pct"] < 5


def test_too_few_surveyed_contacts_raise():
    signals = make_signals(200)
    csat = pl.Series([4] * 29 + [None] * 171, dtype=pl.Int64)
    with pytest.raises(NotEnoughLabels, match="29"):
        train_csat_model(conversation_features(signals), csat)
    with pytest.raises(ValueError, match=r"\[1, 5\]"):
        train_csat_model(conversation_features(signals), pl.Series([9] * 200))
    with pytest.raises(ValueError, match="199"):
        train_csat_model(conversation_features(signals), csat[:199])


def test_training_is_deterministic_and_independent_of_row_order():
    signals = make_signals(400)
    csat = planted_csat(signals)
    features = conversation_features(signals)
    first = train_csat_model(features, csat)
    again = train_csat_model(features, csat)
    order = np.random.default_rng(3).permutation(400)
    shuffled = train_csat_model(features[order], csat[order])
    assert first.version == again.version == shuffled.version
    assert first.metrics == shuffled.metrics
    np.testing.assert_allclose(score_csat(first, features), score_csat(shuffled, features))
    assert train_csat_model(features, csat, seed=1).version != first.version
    contacts = make_contacts(200)
    risk = [train_repeat_risk(journey_risk_features(c), c["repeat_contact"]) for c in (contacts, contacts[::-1])]
    assert risk[0].version == risk[1].version
    assert risk[0].metrics == risk[1].metrics


def test_scoring_tolerates_unseen_and_absent_categories_but_not_missing_numbers():
    signals = make_signals(300)
    model = train_csat_model(conversation_features(signals), planted_csat(signals))
    new = make_signals(5, seed=9).with_columns(intent=pl.lit("brand_new_intent"))
    assert len(score_csat(model, conversation_features(new))) == 5
    with pytest.raises(ValueError, match="transfers"):
        score_csat(model, conversation_features(new).drop("transfers"))


def test_repeat_risk_beats_the_base_rate_on_a_planted_signal():
    contacts = make_contacts(900)
    model = train_repeat_risk(journey_risk_features(contacts), contacts["repeat_contact"])
    m = model.metrics
    assert m["roc_auc"] > 0.7
    assert m["baseline_roc_auc"] == 0.5
    assert m["brier"] < m["baseline_brier"]
    assert m["top_decile_lift"] > 1
    assert m["positive_rate"] == pytest.approx(contacts["repeat_contact"].mean())
    risk = score_repeat_risk(model, journey_risk_features(contacts))
    assert ((risk >= 0) & (risk <= 1)).all()


def test_repeat_risk_on_noise_is_near_chance():
    contacts = make_contacts(900)
    noise = np.random.default_rng(5).random(contacts.height) < 0.3
    m = train_repeat_risk(journey_risk_features(contacts), noise).metrics
    assert abs(m["roc_auc"] - 0.5) < 0.1
    assert m["brier_skill"] < 0.05


def test_repeat_risk_needs_both_classes():
    contacts = make_contacts(100)
    features = journey_risk_features(contacts)
    with pytest.raises(NotEnoughLabels):
        train_repeat_risk(features, np.zeros(contacts.height, dtype=bool))
    with pytest.raises(NotEnoughLabels):
        train_repeat_risk(features[:20], contacts["repeat_contact"][:20])


def test_journey_features_count_the_journey_so_far():
    chain = make_contacts(40).filter(pl.col("chain_position") == 1).head(3)
    chain = chain.with_columns(
        chain_id=pl.lit("J"),
        chain_position=pl.Series([1, 2, 3]),
        channel=pl.Series(["chat", "voice", "voice"]),
        disposition=pl.Series(["unresolved", "abandoned", "resolved"]),
        cost=pl.Series([1.0, 2.0, 4.0]),
        escalation_requests=pl.Series([1, 0, 2]),
        pre_contact_friction=pl.Series([True, False, True]),
        started_at=pl.Series([T0, T0 + timedelta(hours=10), T0 + timedelta(days=2)]),
        ended_at=pl.Series([T0 + timedelta(hours=1), T0 + timedelta(hours=11), T0 + timedelta(days=2, hours=1)]),
    )
    contacts = chain[[2, 0, 1]]  # input order is kept, whatever it is
    features = journey_risk_features(contacts)
    assert features["conversation_id"].to_list() == contacts["conversation_id"].to_list()
    by_position = features.with_columns(contacts["chain_position"]).sort("chain_position")
    assert by_position["contacts_so_far"].to_list() == [1, 2, 3]
    assert by_position["channel_switches_so_far"].to_list() == [0, 1, 1]
    assert by_position["prior_unresolved_contacts"].to_list() == [0, 1, 2]
    assert by_position["escalation_requests_so_far"].to_list() == [1, 1, 3]
    assert by_position["failure_demand_contacts_so_far"].to_list() == [1, 1, 2]
    np.testing.assert_allclose(by_position["log_chain_cost_so_far"], np.log1p([1, 3, 7]))
    np.testing.assert_allclose(by_position["log_hours_since_previous_contact"], np.log1p([0, 9, 37]))
    np.testing.assert_allclose(by_position["log_journey_hours_so_far"], np.log1p([1, 11, 49]))


def test_journey_features_do_not_look_ahead():
    contacts = make_contacts(60)
    last_ids = contacts.filter(pl.col("chain_position") == pl.col("chain_position").max().over("chain_id"))
    earlier = contacts.join(last_ids, on="conversation_id", how="anti")
    full = journey_risk_features(contacts)
    truncated = journey_risk_features(earlier)
    common = full.join(truncated.select("conversation_id"), on="conversation_id", how="semi", maintain_order="left")
    assert common.equals(truncated.select(common.columns))


def test_acted_on_reads_only_the_actions_known_at_the_prediction_time():
    end = datetime(2024, 3, 1, 20)  # each contact ends at 20:00 on 1 March
    actions = [None, end + timedelta(hours=2), end + timedelta(hours=5), end - timedelta(minutes=30)]
    contacts = (
        make_contacts(40)
        .head(len(actions))
        .with_columns(
            ended_at=pl.lit(end),
            started_at=pl.lit(end - timedelta(hours=1)),
            acted_at=pl.Series(actions, dtype=pl.Datetime("us")),
        )
    )
    # training: known by the end of the day the contact ended (the next day's action is not)
    assert journey_risk_features(contacts)["acted_on"].to_list() == [0, 1, 0, 1]
    # scoring a later day sees the later action; scoring at the contact's end sees only the one before it
    assert journey_risk_features(contacts, as_of=datetime(2024, 3, 3))["acted_on"].to_list() == [0, 1, 1, 1]
    assert journey_risk_features(contacts, as_of=end)["acted_on"].to_list() == [0, 0, 0, 1]
    aware = contacts.with_columns(pl.col("started_at", "ended_at", "acted_at").dt.replace_time_zone("UTC"))
    assert journey_risk_features(aware)["acted_on"].to_list() == [0, 1, 0, 1]
    with pytest.raises(ValueError, match="acted_at"):
        journey_risk_features(contacts.drop("acted_at"))


def acted_on_contacts(n_chains: int, seed: int = 0) -> pl.DataFrame:
    """make_contacts where operators act, within hours of its end, on a third of the contacts that would repeat and
    a third of those that would not, and the action averts the repeat of two in three acted contacts."""
    rng = np.random.default_rng(seed)
    contacts = make_contacts(n_chains, seed)
    acted = rng.random(contacts.height) < 1 / 3
    averted = acted & (rng.random(contacts.height) < 2 / 3)
    return contacts.with_columns(
        acted_at=pl.when(pl.Series(acted)).then(pl.col("ended_at") + timedelta(hours=1)),
        repeat_contact=pl.col("repeat_contact") & ~pl.Series(averted),
    )


def test_repeat_risk_learns_that_acted_on_journeys_repeat_less():
    contacts = acted_on_contacts(900)
    with_actions = train_repeat_risk(journey_risk_features(contacts), contacts["repeat_contact"])
    blind = journey_risk_features(contacts.with_columns(acted_at=None))
    without = train_repeat_risk(blind, contacts["repeat_contact"])
    assert with_actions.metrics["roc_auc"] > without.metrics["roc_auc"] + 0.005
    assert with_actions.metrics["brier"] < without.metrics["brier"]
    # the same contacts score lower once acted on
    acted = journey_risk_features(contacts.with_columns(acted_at=pl.col("ended_at")))
    assert (score_repeat_risk(with_actions, acted) < score_repeat_risk(with_actions, blind)).all()


def test_repeat_risk_table_ignores_actions_after_the_day_it_scores():
    contacts = acted_on_contacts(300)
    model = train_repeat_risk(journey_risk_features(contacts), contacts["repeat_contact"])
    day = date(2024, 3, 15)
    none = contacts.with_columns(acted_at=None)
    later = contacts.with_columns(acted_at=pl.lit(datetime(2024, 3, 16, 0, 0, 1)))
    within = contacts.with_columns(acted_at=pl.lit(datetime(2024, 3, 15, 23, 59)))
    risk = {
        name: repeat_risk_table(model, frame, day, 7).sort("journey_id")["risk"]
        for name, frame in (("none", none), ("later", later), ("within", within))
    }
    assert risk["later"].equals(risk["none"])
    assert (risk["within"] < risk["none"]).all()


def test_labels_only_where_the_window_has_passed_and_open_journeys_are_latest_contacts():
    contacts = (
        make_contacts(10)
        .head(3)
        .with_columns(
            chain_id=pl.Series(["A", "A", "B"]),
            chain_position=pl.Series([1, 2, 1]),
            started_at=pl.Series([datetime(2024, 3, 1), datetime(2024, 3, 5), datetime(2024, 3, 9, 23)]),
            ended_at=pl.Series([datetime(2024, 3, 1, 1), datetime(2024, 3, 5, 1), datetime(2024, 3, 10, 0, 30)]),
        )
    )
    ids = contacts["conversation_id"].to_list()
    assert labelled_contacts(contacts, date(2024, 3, 8), 7)["conversation_id"].to_list() == [ids[0]]
    assert labelled_contacts(contacts, date(2024, 3, 7), 7).height == 0
    # B's only contact ends after 2024-03-09, so on that day only A is open, at its second contact.
    assert open_journeys(contacts, date(2024, 3, 9), 7)["conversation_id"].to_list() == [ids[1]]
    assert open_journeys(contacts, date(2024, 3, 4), 7)["conversation_id"].to_list() == [ids[0]]
    assert sorted(open_journeys(contacts, date(2024, 3, 10), 7)["conversation_id"]) == sorted([ids[1], ids[2]])
    assert open_journeys(contacts, date(2024, 3, 12), 7)["conversation_id"].to_list() == [ids[2]]
    aware = contacts.with_columns(pl.col("started_at", "ended_at").dt.replace_time_zone("UTC"))
    assert open_journeys(aware, date(2024, 3, 9), 7)["conversation_id"].to_list() == [ids[1]]


def test_repeat_risk_table_ranks_open_journeys_with_their_factors():
    contacts = make_contacts(300)
    model = train_repeat_risk(journey_risk_features(contacts), contacts["repeat_contact"])
    day = date(2024, 3, 15)
    table = repeat_risk_table(model, contacts, day, 7)
    expected = {
        "partition_date", "journey_id", "customer_key", "intent", "last_conversation_id", "last_contact_at",
        "last_disposition", "repeat_window_ends_at", "contacts_so_far", "risk", "risk_rank", "model_version",
        "top_factors",
    }  # fmt: skip
    assert set(table.columns) == expected
    assert table.height == open_journeys(contacts, day, 7).height > 0
    assert table["journey_id"].is_unique().all()
    assert table["risk_rank"].to_list() == list(range(1, table.height + 1))
    assert table["risk"].is_sorted(descending=True)
    assert (table["last_contact_at"] < datetime(2024, 3, 16)).all()
    assert (table["partition_date"] == day).all()
    factors = table.filter(pl.col("last_disposition") == "unresolved")["top_factors"]
    assert factors.str.contains(r"disposition=unresolved \(\+").all()
    assert not table["top_factors"].str.contains("disposition=resolved").any()


def test_risk_factors_name_only_present_categories():
    contacts = make_contacts(300)
    features = journey_risk_features(contacts)
    model = train_repeat_risk(features, contacts["repeat_contact"])
    factors = risk_factors(model, features, top=2)
    assert len(factors) == contacts.height
    assert all(len(f.split(", ")) <= 2 for f in factors if f)
    for f, disposition in zip(factors, contacts["disposition"], strict=True):
        named = {part.split(" (")[0] for part in f.split(", ") if "disposition=" in part}
        assert named <= {f"disposition={disposition}"}


def test_csat_predictions_table_covers_every_conversation():
    signals = make_signals(300)
    signals = signals.with_columns(planted_csat(signals))
    model = train_csat_model(conversation_features(signals), signals["csat"])
    table = csat_predictions_table(model, signals)
    assert table.columns == [
        "partition_date", "conversation_id", "predicted_csat", "surveyed_csat", "model_version", "top_factors",
        "in_training",
    ]  # fmt: skip
    assert table.height == 300
    assert table["predicted_csat"].null_count() == 0
    assert table["surveyed_csat"].to_list() == signals["csat"].to_list()
    assert set(SIGNAL_COLUMNS) <= set(signals.columns)


def test_predictions_say_which_contacts_the_model_trained_on():
    signals = make_signals(300).with_columns(
        partition_date=pl.Series([date(2024, 3, 1) + timedelta(days=i % 3) for i in range(300)])
    )
    signals = signals.with_columns(planted_csat(signals, surveyed=0.5))
    first_two_days = signals.filter(pl.col("partition_date") <= date(2024, 3, 2))
    model = train_csat_model(
        conversation_features(first_two_days),
        first_two_days["csat"],
        trained_days=(date(2024, 3, 1), date(2024, 3, 2)),
    )
    assert (model.metrics["trained_from"], model.metrics["trained_through"]) == ("2024-03-01", "2024-03-02")
    table = csat_predictions_table(model, signals)
    expected = signals["csat"].is_not_null() & (signals["partition_date"] <= date(2024, 3, 2))
    assert table["in_training"].to_list() == expected.to_list()
    unknown = csat_predictions_table(train_csat_model(conversation_features(signals), signals["csat"]), signals)
    assert unknown["in_training"].null_count() == 300


def test_csat_factors_explain_low_and_high_predictions_with_signed_points():
    signals = make_signals(600)
    signals = signals.with_columns(planted_csat(signals, surveyed=0.6))
    model = train_csat_model(conversation_features(signals), signals["csat"])
    table = csat_predictions_table(model, signals, top_factors=2)
    assert table["top_factors"].null_count() == 0
    assert all(len(f.split(", ")) <= 2 for f in table["top_factors"] if f)
    low = table.sort("predicted_csat").head(20)["top_factors"]
    high = table.sort("predicted_csat").tail(20)["top_factors"]
    # the planted drivers lower the worst predictions and raise the best ones, each named with its sign
    assert low.str.contains(r"\(-\d").all()
    assert high.str.contains(r"\(\+\d").all()
    assert low.str.contains("disposition=unresolved|disposition=abandoned|high transfers|low sentiment_end").all()
    # absent categories are never named: a resolved contact is not explained by "disposition=unresolved"
    resolved = table.filter(signals["disposition"] == "resolved")["top_factors"]
    assert not resolved.str.contains("disposition=unresolved").any()


def test_save_and_load_the_latest_model_of_each_kind(tmp_path):
    signals = make_signals(300)
    features = conversation_features(signals)
    older = train_csat_model(features, planted_csat(signals))
    newer = train_csat_model(features, planted_csat(signals), seed=1)
    contacts = make_contacts(200)
    risk = train_repeat_risk(journey_risk_features(contacts), contacts["repeat_contact"])
    assert load_latest_model(tmp_path, CsatModel) is None
    created = datetime(2024, 3, 1, tzinfo=UTC)
    save_model(newer, tmp_path, created_at=created + timedelta(hours=1))
    path = save_model(older, tmp_path, created_at=created)
    save_model(risk, tmp_path, created_at=created + timedelta(hours=2))
    assert path.name == f"csat-model-{older.version}.joblib"
    assert path.with_suffix(".json").is_file()
    loaded = load_latest_model(tmp_path, CsatModel)
    assert loaded is not None and loaded.version == newer.version
    np.testing.assert_allclose(score_csat(loaded, features), score_csat(newer, features))
    loaded_risk = load_latest_model(tmp_path, RiskModel)
    assert loaded_risk is not None and loaded_risk.metadata() == risk.metadata()
    with pytest.raises(ValueError, match="timezone"):
        save_model(risk, tmp_path, created_at=datetime(2024, 3, 1))
