"""Where a database's side files live: one folder per published database, so that two databases never share
models, keys, locks, logs or reports.

For `cx_data/cx_signals.duckdb` the folder is `cx_data/cx_signals.duckdb.d/`:

    working.duckdb     the pipeline's private working file (clear raw records; never given to analysts)
    pseudonym-key      the fallback HMAC key (mode 0600) when CX_SIGNALS_PSEUDONYM_KEY is not set
    models/            versioned model artefacts and the retraining marker
    locks/             run.lock and write.lock
    logs/              one log file per run with the full trace of any failure
    report.html        the HTML report of the latest run
    manifests/         per source, the partitions each landing file holds (so that a run reads only its days' files)

and beside the published file, while a run publishes, `.<database file name>.<pid>.publishing`: the new file, built
there and renamed over the published one when complete.

This module is the only place these paths are built.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DatabaseFiles:
    """The published database file and the paths of its side files."""

    published: Path

    @property
    def folder(self) -> Path:
        """The side folder: `<database file name>.d` beside the published file."""
        return self.published.with_name(f"{self.published.name}.d")

    @property
    def working(self) -> Path:
        """The pipeline's private working DuckDB file."""
        return self.folder / "working.duckdb"

    @property
    def key_file(self) -> Path:
        """The fallback pseudonymisation key file."""
        return self.folder / "pseudonym-key"

    @property
    def models(self) -> Path:
        """The model artefact folder."""
        return self.folder / "models"

    @property
    def logs(self) -> Path:
        """The folder of per-run log files."""
        return self.folder / "logs"

    @property
    def report(self) -> Path:
        """The HTML report written after each run."""
        return self.folder / "report.html"

    def manifest(self, source: str) -> Path:
        """The landing manifest of `source`: the partitions each of its landing files holds."""
        return self.folder / "manifests" / f"{source}.json"

    def staging(self, pid: int) -> Path:
        """Where process `pid` builds a new published file, beside the published one (renamed over it when
        complete, so that readers never see a partial file)."""
        return self.published.with_name(f".{self.published.name}.{pid}.publishing")

    def stale_stagings(self) -> list[Path]:
        """Staging files (and their DuckDB write-ahead logs) that publishers of this database left behind."""
        return sorted(self.published.parent.glob(f".{self.published.name}.*.publishing*"))

    def lock(self, purpose: str) -> Path:
        """The lock file for `purpose` ('run' or 'write')."""
        return self.folder / "locks" / f"{purpose}.lock"


def database_files(published: Path | str) -> DatabaseFiles:
    """The side-file layout of the published database at `published`."""
    return DatabaseFiles(Path(published))
