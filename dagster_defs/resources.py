"""Resources: one DuckDB resource on the pipeline's working file, and where the pipeline reads and publishes."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from cx_signals.locking import exclusive_lock
from cx_signals.paths import DatabaseFiles, database_files

DEFAULT_DB = "cx_data/cx_signals.duckdb"
DEFAULT_LANDING = "cx_data/landing"
WRITER_POOL = "cx_duckdb_writer"


class LockedDuckDBResource(DuckDBResource):
    """DuckDBResource whose connections hold the database's write lock, so steps of different runs and
    processes (the UI's multiprocess executor, the CLI) take turns instead of failing on DuckDB's file lock."""

    lock_file: str
    lock_timeout_seconds: float = 600

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        # Connects directly: DuckDBResource retries a failed connect ten times with backoff (about two minutes) to
        # wait out another writer, which the write lock already excludes, so a broken file would only fail late.
        with exclusive_lock(Path(self.lock_file), self.lock_timeout_seconds):
            connection = duckdb.connect(self.database, read_only=False, config=self.connection_config)
            try:
                yield connection
            finally:
                connection.close()


class CxSettings(dg.ConfigurableResource):
    """Where the pipeline reads and publishes: the landing folder and the published database."""

    landing_dir: str
    database: str

    @property
    def files(self) -> DatabaseFiles:
        """The published database and its side files (working file, key, models, locks, logs, report)."""
        return database_files(self.database)


def build_resources(database: str, landing_dir: str, config: dict[str, Any]) -> dict[str, Any]:
    """The resources for a database path and landing folder: the working DuckDB file and the settings."""
    files = database_files(database)
    return {
        "duckdb": LockedDuckDBResource(
            database=str(files.working),
            lock_file=str(files.lock("write")),
            lock_timeout_seconds=float(config["locks"]["timeout_seconds"]),
        ),
        "settings": CxSettings(landing_dir=landing_dir, database=database),
    }


def environment_locations() -> tuple[str, str, str]:
    """Database, landing folder and config override from CX_SIGNALS_DB, CX_SIGNALS_LANDING, CX_SIGNALS_CONFIG."""
    return (
        os.environ.get("CX_SIGNALS_DB", DEFAULT_DB),
        os.environ.get("CX_SIGNALS_LANDING", DEFAULT_LANDING),
        os.environ.get("CX_SIGNALS_CONFIG", ""),
    )
