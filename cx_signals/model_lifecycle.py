"""When a model is (re)trained: a run trains only a model that is missing or marked for retraining; everything
else uses the current version, so that re-running past days scores them exactly as before.

`cx-signals train` and the weekly training schedule force a new version; an erasure marks every model for
retraining, because the erased customer's records were among its training examples.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

RETRAIN_MARKER = "retrain-requested.json"
ARTEFACT_PREFIXES = {"intent": "intent-model-", "csat": "csat-model-", "repeat_risk": "repeat-risk-model-"}


def latest_sidecar(directory: Path, prefix: str) -> dict | None:
    """The JSON sidecar of the newest complete artefact with `prefix` in `directory`, or None."""
    sidecars = [
        json.loads(path.read_text(encoding="utf-8"))
        for path in directory.glob(f"{prefix}*.json")
        if path.with_suffix(".joblib").is_file()
    ]
    return max(sidecars, key=lambda s: (s.get("created_at", ""), s.get("version", "")), default=None)


def request_retraining(directory: Path, reason: str, now: datetime | None = None) -> Path:
    """Mark every model in `directory` for retraining at the next run (`reason` is shown in its metadata)."""
    directory.mkdir(parents=True, exist_ok=True)
    marker = directory / RETRAIN_MARKER
    requested_at = (now or datetime.now(UTC)).astimezone(UTC).isoformat()
    marker.write_text(json.dumps({"reason": reason, "requested_at": requested_at}), encoding="utf-8")
    return marker


def training_reason(directory: Path, prefix: str, forced: bool) -> str | None:
    """Why the model with artefact `prefix` must be trained now, or None when its current version stays."""
    if forced:
        return "retraining requested (cx-signals train or the training schedule)"
    current = latest_sidecar(directory, prefix)
    if current is None:
        return "no model yet"
    marker = directory / RETRAIN_MARKER
    if marker.is_file():
        request = json.loads(marker.read_text(encoding="utf-8"))
        requested = datetime.fromisoformat(request["requested_at"])
        if requested > datetime.fromisoformat(current["created_at"]):
            return f"marked for retraining: {request['reason']}"
    return None
