"""Resources: one DuckDB resource on the pipeline's working file, and the pipeline's settings."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from cx_signals.config import load_config
from cx_signals.db import working_path
from cx_signals.locking import exclusive_lock, lock_path
from cx_signals.privacy import key_file_for

DEFAULT_DB = "cx_data/cx_signals.duckdb"
DEFAULT_LANDING = "cx_data/landing"
WRITER_POOL = "cx_duckdb_writer"


class LockedDuckDBResource(DuckDBResource):
    """DuckDBResource whose connections hold the database's write lock, so steps of different runs and
    processes (the UI's multiprocess executor, the CLI) take turns instead of failing on DuckDB's file lock."""

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with exclusive_lock(lock_path(Path(self.database), "write")), super().get_connection() as connection:
            yield connection


class CxSettings(dg.ConfigurableResource):
    """Where the pipeline reads and publishes: landing folder, published database, optional config override."""

    landing_dir: str
    database: str
    config_file: str = ""

    def config(self) -> dict[str, Any]:
        """The merged parameters (defaults + override file)."""
        return load_config(self.config_file or None)

    @property
    def published_path(self) -> Path:
        """The database file analysts read."""
        return Path(self.database)

    @property
    def key_file(self) -> Path:
        """Fallback pseudonymisation key file, beside the database."""
        return key_file_for(self.published_path)


def build_resources(database: str, landing_dir: str, config_file: str = "") -> dict[str, Any]:
    """The resources for a database path and landing folder: the working DuckDB file and the settings."""
    return {
        "duckdb": LockedDuckDBResource(database=str(working_path(Path(database)))),
        "settings": CxSettings(landing_dir=landing_dir, database=database, config_file=config_file),
    }


def resources_from_environment() -> dict[str, Any]:
    """Resources configured from CX_SIGNALS_DB, CX_SIGNALS_LANDING and CX_SIGNALS_CONFIG (with local defaults)."""
    return build_resources(
        os.environ.get("CX_SIGNALS_DB", DEFAULT_DB),
        os.environ.get("CX_SIGNALS_LANDING", DEFAULT_LANDING),
        os.environ.get("CX_SIGNALS_CONFIG", ""),
    )
