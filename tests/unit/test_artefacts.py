"""A run trains a model only when it is missing, marked for retraining, or the run forces it."""

import json
from datetime import UTC, datetime, timedelta

from cx_signals.ml.artefacts import latest_sidecar, request_retraining, training_reason

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
