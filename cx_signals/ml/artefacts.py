"""The one store of model artefacts, and when a model is (re)trained.

Every model (intent, CSAT, repeat risk) is saved the same way into a database's `models/` folder:
`<kind>-model-<version>.joblib` holds its fitted scikit-learn estimator, and `<kind>-model-<version>.json`, written
last so that a sidecar implies a complete artefact, its metadata (version, metrics, parameters, training-data hash)
and `created_at`. Loading picks the newest complete artefact of a kind and rebuilds the model from both files.

A run trains only a model that is missing or marked for retraining; everything else uses the current version, so
that re-running past days scores them exactly as before. `cx-signals train` and the weekly training schedule force a
new version; an erasure marks every model for retraining, because the erased customer's records were among its
training examples.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar, get_origin, get_type_hints

import joblib

RETRAIN_MARKER = "retrain-requested.json"
# The kinds of model the pipeline keeps; the artefact file names start with `artefact_prefix(kind)`.
KINDS = ("intent", "csat", "repeat_risk")


@dataclass(frozen=True)
class SavedModel:
    """A fitted scikit-learn estimator with the facts needed to reproduce and judge it; each kind of model adds its
    own facts as further fields (JSON-safe values: tuples are saved as lists)."""

    kind: ClassVar[str] = ""

    estimator: Any
    version: str
    metrics: dict[str, Any]
    params: dict[str, Any]
    training_data_hash: str
    sklearn_version: str

    def metadata(self) -> dict[str, Any]:
        """JSON-safe description of the model (every field but the estimator), for sidecars and assets."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "estimator"}
        return {name: list(value) if isinstance(value, tuple) else value for name, value in values.items()}

    @classmethod
    def from_artefact(cls, estimator: Any, metadata: dict[str, Any]) -> Self:
        """The model saved as `estimator` with its sidecar `metadata`."""
        hints = get_type_hints(cls)
        values = {
            f.name: tuple(metadata[f.name]) if get_origin(hints[f.name]) is tuple else metadata[f.name]
            for f in fields(cls)
            if f.name != "estimator"
        }
        return cls(estimator=estimator, **values)


A = TypeVar("A", bound=SavedModel)


def artefact_prefix(kind: str) -> str:
    """The file-name prefix of the artefacts of `kind` (one of KINDS): 'repeat_risk' -> 'repeat-risk-model-'."""
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r}; expected one of {', '.join(KINDS)}")
    return f"{kind.replace('_', '-')}-model-"


def _write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def save_model(model: SavedModel, directory: Path, *, created_at: datetime) -> Path:
    """Write `model`'s estimator and its JSON sidecar into `directory`; return the joblib path.

    `created_at` (timezone-aware) is supplied by the caller so that saving is deterministic; saving the same
    version again replaces it. The sidecar is written last, so a sidecar implies a complete artefact.
    """
    if created_at.tzinfo is None:
        raise ValueError("created_at must be timezone-aware")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{artefact_prefix(model.kind)}{model.version}.joblib"
    sidecar = {**model.metadata(), "kind": model.kind, "created_at": created_at.astimezone(UTC).isoformat()}
    _write_atomically(path, lambda p: joblib.dump(model.estimator, p))
    _write_atomically(
        path.with_suffix(".json"),
        lambda p: p.write_text(json.dumps(sidecar, indent=2, sort_keys=True, ensure_ascii=False) + "\n"),
    )
    return path


def _latest(directory: Path, kind: str) -> tuple[Path, dict[str, Any]] | None:
    """(joblib path, sidecar) of the newest complete artefact of `kind` in `directory`, or None."""
    saved = []
    for path in directory.glob(f"{artefact_prefix(kind)}*.json"):
        model_file = path.with_suffix(".joblib")
        if model_file.is_file():
            sidecar = json.loads(path.read_text(encoding="utf-8"))
            # CSAT and repeat-risk artefacts saved before this store (kind "csat-model", "repeat-risk-model") pickled
            # classes that no longer exist: they do not count, so the next run trains their kind again
            if sidecar.get("kind", kind) != kind:
                continue
            saved.append((sidecar.get("created_at", ""), sidecar.get("version", ""), model_file, sidecar))
    if not saved:
        return None
    *_, path, sidecar = max(saved, key=lambda s: (s[0], s[1]))
    return path, sidecar


def latest_sidecar(directory: Path, kind: str) -> dict[str, Any] | None:
    """The sidecar (metadata and created_at) of the newest complete artefact of `kind` in `directory`, or None."""
    latest = _latest(directory, kind)
    return latest[1] if latest else None


def load_latest_model(directory: Path, model_class: type[A]) -> A | None:
    """The newest model of `model_class` saved in `directory`, or None when there is none.

    Loading unpickles the joblib file: only load from a directory you trust.
    """
    latest = _latest(directory, model_class.kind)
    if latest is None:
        return None
    path, sidecar = latest
    return model_class.from_artefact(joblib.load(path), sidecar)


def request_retraining(directory: Path, reason: str, now: datetime | None = None) -> Path:
    """Mark every model in `directory` for retraining at the next run (`reason` is shown in its metadata)."""
    directory.mkdir(parents=True, exist_ok=True)
    marker = directory / RETRAIN_MARKER
    requested_at = (now or datetime.now(UTC)).astimezone(UTC).isoformat()
    marker.write_text(json.dumps({"reason": reason, "requested_at": requested_at}), encoding="utf-8")
    return marker


def training_reason(directory: Path, kind: str, forced: bool) -> str | None:
    """Why the model of `kind` must be trained now, or None when its current version stays."""
    if forced:
        return "retraining requested (cx-signals train or the training schedule)"
    current = latest_sidecar(directory, kind)
    if current is None:
        return "no model yet"
    marker = directory / RETRAIN_MARKER
    if marker.is_file():
        request = json.loads(marker.read_text(encoding="utf-8"))
        requested = datetime.fromisoformat(request["requested_at"])
        if requested > datetime.fromisoformat(current["created_at"]):
            return f"marked for retraining: {request['reason']}"
    return None
