"""Resources: one DuckDB resource on the pipeline's working tables (the working file or a DuckLake, by
`storage.mode`), and where the pipeline reads and publishes."""

import os
import random
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from cx_signals.config import CONFIG_ENV_VAR, Parameters
from cx_signals.locking import exclusive_lock
from cx_signals.paths import DatabaseFiles, database_files
from cx_signals.storage import Storage, connect, is_conflict

DEFAULT_DB = "cx_data/cx_signals.duckdb"
DEFAULT_LANDING = "cx_data/landing"
WRITER_POOL = "cx_duckdb_writer"


class LockedDuckDBResource(DuckDBResource):
    """DuckDBResource on the working tables.

    On the DuckDB file (`storage_mode` duckdb) its connections hold the database's write lock, so steps of different
    runs and processes (the UI, the CLI) take turns instead of failing on DuckDB's file lock. On a DuckLake
    (`storage_mode` ducklake) there is no lock: writers run at once, and a step whose commit conflicts with another
    writer's is run again (at most `conflict_retries` times, after a random wait) on the new snapshot.
    """

    lock_file: str
    lock_timeout_seconds: float = 600
    storage_mode: str = "duckdb"
    lake_catalog: str = ""
    lake_data_path: str = ""
    conflict_retries: int = 5

    @property
    def storage(self) -> Storage:
        """The storage these connections open."""
        return Storage(self.storage_mode, self.lake_catalog, self.lake_data_path, self.conflict_retries)

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        # Connects directly: DuckDBResource retries a failed connect ten times with backoff (about two minutes) to
        # wait out another writer, which the write lock already excludes, so a broken file would only fail late.
        storage = self.storage
        lock = nullcontext() if storage.lake else exclusive_lock(Path(self.lock_file), self.lock_timeout_seconds)
        with lock:
            connection = connect(storage, Path(self.database), settings=self.connection_config)
            try:
                yield connection
            except duckdb.Error as exc:
                if storage.lake and is_conflict(exc):
                    raise dg.RetryRequested(self.conflict_retries, random.uniform(0.5, 3.0)) from exc
                raise
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


def build_resources(database: str, landing_dir: str, config: Parameters) -> dict[str, Any]:
    """The resources for a database path and landing folder: the working tables and the settings."""
    files = database_files(database)
    storage = Storage.from_config(config)
    return {
        "duckdb": LockedDuckDBResource(
            database=str(files.working),
            lock_file=str(files.lock("write")),
            lock_timeout_seconds=config.locks.timeout_seconds,
            storage_mode=storage.mode,
            lake_catalog=storage.catalog or "",
            lake_data_path=storage.data_path or "",
            conflict_retries=storage.conflict_retries,
            connection_config={"memory_limit": config.storage.memory_limit},
        ),
        "settings": CxSettings(landing_dir=landing_dir, database=database),
    }


def environment_locations() -> tuple[str, str, str]:
    """Database, landing folder and config override from CX_SIGNALS_DB, CX_SIGNALS_LANDING, CX_SIGNALS_CONFIG."""
    return (
        os.environ.get("CX_SIGNALS_DB", DEFAULT_DB),
        os.environ.get("CX_SIGNALS_LANDING", DEFAULT_LANDING),
        os.environ.get(CONFIG_ENV_VAR, ""),
    )
