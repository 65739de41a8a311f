"""Predicted CSAT's factors, calibration and population CSAT, model error by segment and agent cautions, end to
end through `cx-signals run` on generated data."""

import duckdb
import pytest


@pytest.fixture(scope="module")
def published(database):
    con = duckdb.connect(str(database), read_only=True)
    yield con
    con.close()


def test_every_prediction_is_explained(published):
    rows, explained = published.execute(
        "SELECT count(*), count(*) FILTER (WHERE top_factors LIKE '%(%') FROM signals.csat_predictions"
    ).fetchone()
    assert rows > 0 and explained > 0.9 * rows


def test_calibration_deciles_cover_the_surveyed_contacts_of_the_window(published):
    day, version = published.execute(
        "SELECT max(partition_date), any_value(model_version) FROM metrics.csat_calibration"
    ).fetchone()
    deciles = published.execute(
        "SELECT decile, surveyed, mean_predicted, mean_observed, gap FROM metrics.csat_calibration "
        "WHERE partition_date = ? AND model_version = ? ORDER BY decile",
        [day, version],
    ).fetchall()
    assert [d[0] for d in deciles] == list(range(1, 11))
    surveyed = published.execute(
        "SELECT count(*) FROM signals.csat_predictions WHERE surveyed_csat IS NOT NULL AND model_version = ?",
        [version],
    ).fetchone()[0]
    assert sum(d[1] for d in deciles) == surveyed
    # predictions rise with the decile, and so do the surveys they are checked against
    assert [d[2] for d in deciles] == sorted(d[2] for d in deciles)
    assert deciles[-1][3] - deciles[0][3] > 1.5
    assert all(abs(d[4]) < 1.0 for d in deciles)
    # one run trains the model on every surveyed contact: nothing is held out yet
    in_training = published.execute(
        "SELECT count(*) FILTER (WHERE in_training), count(*) FILTER (WHERE in_training IS NULL) "
        "FROM signals.csat_predictions WHERE surveyed_csat IS NOT NULL"
    ).fetchone()
    assert in_training == (surveyed, 0)
    held_out = published.execute("SELECT sum(held_out_surveyed) FROM metrics.csat_calibration").fetchone()[0]
    assert held_out == 0


def test_population_csat_beside_the_surveyed_and_predicted_means(published):
    rows = published.execute(
        "SELECT contacts, surveyed, naive_mean, ipw_mean, ipw_low, ipw_high, predicted_mean, propensity_auc, "
        "effective_sample_size FROM metrics.csat_population WHERE period = 'window' AND estimated "
        "ORDER BY partition_date"
    ).fetchall()
    assert rows
    contacts, surveyed, naive, ipw, low, high, predicted, auc, ess = rows[-1]
    assert 0 < surveyed < contacts
    assert low < ipw < high and 1 <= ipw <= 5 and 1 <= predicted <= 5
    # the generator surveys abandoned contacts far less often: answering follows the features
    assert auc > 0.55 and ess < surveyed
    assert abs(ipw - naive) < 0.5


def test_every_model_is_judged_by_channel_and_queue(published):
    day = published.execute("SELECT max(partition_date) FROM metrics.model_fairness").fetchone()[0]
    rows = published.execute(
        "SELECT model, segment_type, count(*) FROM metrics.model_fairness WHERE partition_date = ? GROUP BY ALL",
        [day],
    ).fetchall()
    segments = {(m, t): n for m, t, n in rows}
    channels = published.execute("SELECT count(DISTINCT channel) FROM metrics.contact_outcomes").fetchone()[0]
    for model in ("csat", "repeat_risk", "intent_triage"):
        assert segments[(model, "all")] == 1
        assert 1 < segments[(model, "channel")] <= channels
        assert segments[(model, "queue")] >= 1


def test_agent_days_below_the_minimum_sample_carry_a_caution(published):
    judged, cautioned, unexplained = published.execute(
        "SELECT count(*) FILTER (WHERE sentiment_lift_judged AND csat_judged), count(caution), "
        "count(*) FILTER (WHERE NOT (sentiment_lift_judged AND csat_judged) AND caution IS NULL) "
        "FROM metrics.agent_daily"
    ).fetchone()
    assert cautioned > 0 and unexplained == 0
    assert judged + cautioned == published.execute("SELECT count(*) FROM metrics.agent_daily").fetchone()[0]
