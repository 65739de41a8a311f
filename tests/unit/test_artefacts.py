"""The one artefact store of every model, and when a run trains one: only when it is missing, marked for
retraining, or the run forces it."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import joblib
import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from cx_signals.ml.artefacts import (
    KINDS,
    SavedModel,
    artefact_prefix,
    latest_sidecar,
    load_latest_model,
    request_retraining,
    save_model,
    training_reason,
)

KIND = "csat"
PREFIX = "csat-model-"


def save(directory, version: str, created_at: datetime) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{PREFIX}{version}.joblib").write_bytes(b"model")
    sidecar = {"version": version, "created_at": created_at.isoformat()}
    (directory / f"{PREFIX}{version}.json").write_text(json.dumps(sidecar))


def test_a_missing_model_is_trained_and_an_existing_one_is_kept(tmp_path):
    assert training_reason(tmp_path, KIND, forced=False) == "no model yet"
    save(tmp_path, "v1", datetime(2026, 10, 1, tzinfo=UTC))
    assert training_reason(tmp_path, KIND, forced=False) is None
    assert "requested" in training_reason(tmp_path, KIND, forced=True)


def test_a_retraining_request_applies_until_a_newer_model_exists(tmp_path):
    trained = datetime(2026, 10, 1, 12, tzinfo=UTC)
    save(tmp_path, "v1", trained)
    request_retraining(tmp_path, "customer erased", now=trained + timedelta(hours=1))
    assert training_reason(tmp_path, KIND, forced=False) == "marked for retraining: customer erased"
    save(tmp_path, "v2", trained + timedelta(hours=2))
    assert training_reason(tmp_path, KIND, forced=False) is None
    assert latest_sidecar(tmp_path, KIND)["version"] == "v2"


def test_an_artefact_without_its_model_file_does_not_count(tmp_path):
    save(tmp_path, "v1", datetime(2026, 10, 1, tzinfo=UTC))
    (tmp_path / f"{PREFIX}v1.joblib").unlink()
    assert training_reason(tmp_path, KIND, forced=False) == "no model yet"


@dataclass(frozen=True)
class Fitted(SavedModel):
    kind: ClassVar[str] = "repeat_risk"

    feature_names: tuple[str, ...]


def fitted(version: str) -> Fitted:
    return Fitted(
        estimator=StandardScaler().fit(np.array([[1.0, 2.0], [3.0, 5.0]])),
        version=version,
        metrics={"roc_auc": 0.7},
        params={"seed": 0},
        training_data_hash="abc",
        sklearn_version="1",
        feature_names=("a", "b"),
    )


def test_one_store_saves_every_kind_as_its_estimator_and_a_sidecar(tmp_path):
    model = fitted("v1")
    path = save_model(model, tmp_path, created_at=datetime(2026, 10, 1, tzinfo=UTC))
    assert path.name == "repeat-risk-model-v1.joblib"
    # the joblib file holds only the estimator, so that moving a model class never orphans its artefacts
    assert isinstance(joblib.load(path), StandardScaler)
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["kind"] == "repeat_risk" and sidecar["feature_names"] == ["a", "b"]
    loaded = load_latest_model(tmp_path, Fitted)
    assert loaded is not None and loaded.metadata() == model.metadata() and loaded.feature_names == ("a", "b")
    np.testing.assert_allclose(loaded.estimator.mean_, model.estimator.mean_)
    assert latest_sidecar(tmp_path, "csat") is None and latest_sidecar(tmp_path, "intent") is None


def test_an_unknown_kind_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown model kind 'sentiment'"):
        latest_sidecar(tmp_path, "sentiment")
    assert [artefact_prefix(kind) for kind in KINDS] == ["intent-model-", "csat-model-", "repeat-risk-model-"]


def test_a_model_saved_before_the_store_is_trained_again(tmp_path):
    save(tmp_path, "v1", datetime(2026, 10, 1, tzinfo=UTC))
    old = tmp_path / f"{PREFIX}v1.json"
    old.write_text(json.dumps({**json.loads(old.read_text()), "kind": "csat-model"}))
    assert latest_sidecar(tmp_path, KIND) is None
    assert training_reason(tmp_path, KIND, forced=False) == "no model yet"
