"""The landing manifest: which partitions each landing file holds, so that a run reads only the files of its days.

Kept in the database's side folder (`landing-manifest.json`), one entry per landing file, keyed by the keyed
pseudonym of its path (file names can carry PII) and valid while the file's SHA-256 is unchanged: a new or changed
file is read whatever its days, once, and then only by runs of the days it holds.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from cx_signals.landing import SOURCES, LandingFile
from cx_signals.paths import DatabaseFiles
from cx_signals.privacy import pseudonym, pseudonym_key

VERSION = 1


@dataclass
class LandingManifest:
    """Per landing file (by path pseudonym): its SHA-256 and the partitions its records fall on."""

    path: Path
    key: bytes
    entries: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, key: bytes) -> LandingManifest:
        """The manifest at `path`; empty when there is none yet or it cannot be read (every file is then read)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(path, key)
        if not isinstance(data, dict) or data.get("version") != VERSION:
            return cls(path, key)
        return cls(path, key, dict(data.get("files") or {}))

    def _id(self, file: LandingFile) -> str:
        return pseudonym(f"{file.source}/{file.relative}", self.key) or ""

    def days_of(self, file: LandingFile) -> set[date] | None:
        """The partitions `file` holds, or None when it is new or changed since it was last read."""
        entry = self.entries.get(self._id(file))
        if entry is None or entry.get("sha256") != file.sha256:
            return None
        return {date.fromisoformat(d) for d in entry["days"]}

    def record(self, file: LandingFile, days: Iterable[date]) -> None:
        """Remember the partitions `file` (as it is now) holds."""
        self.entries[self._id(file)] = {"sha256": file.sha256, "days": sorted(d.isoformat() for d in days)}

    def select(self, files: list[LandingFile], days: set[date]) -> list[LandingFile]:
        """The files a run of `days` must read: those holding one of them, new or changed ones, and files that cannot
        be read (their file-level reject is recorded again); in their original order."""
        chosen = []
        for file in files:
            known = self.days_of(file)
            if known is None or known & days or file.path_error:
                chosen.append(file)
        return chosen

    def save(self, present: list[LandingFile]) -> None:
        """Write the manifest atomically, forgetting files no longer in the landing folder (`present`)."""
        keep = {self._id(f) for f in present}
        data = {"version": VERSION, "files": {k: v for k, v in sorted(self.entries.items()) if k in keep}}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        staging = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        staging.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(staging, self.path)


def manifests(files: DatabaseFiles) -> dict[str, LandingManifest]:
    """The landing manifest of each source of a database."""
    key = pseudonym_key(files.key_file)
    return {source: LandingManifest.load(files.manifest(source), key) for source in SOURCES}
