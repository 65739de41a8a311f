"""Where the pipeline's working tables live, chosen by `storage` in the config: one DuckDB file, or a DuckLake.

`duckdb`: the private working file `<db>.d/working.duckdb`; DuckDB allows one writing process per file, so
writers queue on the write lock (see `dagster_defs/database_resources.py`).

`ducklake`: a DuckLake with its catalog in PostgreSQL and its data in Parquet files under `data_path`. Attaching it
and `USE`-ing it makes the pipeline's `schema.table` SQL run unchanged; any number of processes, on any number of
machines, read and write it at once (optimistic transactions, see `is_conflict`). The extensions are loaded from
the installed `duckdb-extension-ducklake` and `duckdb-extension-postgres-scanner` packages, never downloaded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:
    from cx_signals.config import Parameters

LAKE = "lake"
# (Python package, extension name) of the DuckLake extension and of the PostgreSQL one its catalog needs.
_EXTENSIONS = (("duckdb_extension_ducklake", "ducklake"), ("duckdb_extension_postgres_scanner", "postgres_scanner"))
_ATTACH_ATTEMPTS = 5
_NO_DOWNLOADS = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


@dataclass(frozen=True)
class Storage:
    """The `storage` section of the config: the mode and, for a DuckLake, its catalog and data path."""

    mode: str = "duckdb"
    catalog: str | None = None
    data_path: str | None = None
    conflict_retries: int = 5

    @classmethod
    def from_config(cls, config: Parameters) -> Storage:
        """The storage the (validated) config names."""
        section = config.storage
        return cls(section.mode, section.catalog, section.data_path, section.conflict_retries)

    @property
    def lake(self) -> bool:
        """True for a DuckLake, which takes concurrent writers; False for the single-writer DuckDB file."""
        return self.mode == "ducklake"


def extension_file(package: str, name: str) -> Path:
    """The `name` extension binary shipped by the installed `package` for this DuckDB version."""
    path = Path(str(resources.files(package))) / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: install {package.replace('_', '-')}=={duckdb.__version__} to match duckdb"
        )
    return path


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect_lake(storage: Storage, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the DuckLake attached as `lake` and in use, so `schema.table` names resolve in it."""
    con = duckdb.connect(config=_NO_DOWNLOADS)
    try:
        for package, name in _EXTENSIONS:
            con.execute(f"LOAD {_literal(str(extension_file(package, name)))}")
        data_path = storage.data_path or ""
        if not read_only and "://" not in data_path:  # a local or mounted folder (an object store needs none)
            Path(data_path).mkdir(parents=True, exist_ok=True)
        options = [f"DATA_PATH {_literal(data_path)}"]
        if read_only:
            options.append("READ_ONLY")
        attach = f"ATTACH {_literal('ducklake:' + (storage.catalog or ''))} AS {LAKE} ({', '.join(options)})"
        for attempt in range(_ATTACH_ATTEMPTS):
            try:
                con.execute(attach)
                break
            except duckdb.Error as exc:
                # processes that attach a new lake at once all create its catalog tables; the losers attach it
                if "already exists" not in str(exc) or attempt == _ATTACH_ATTEMPTS - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))
        con.execute(f"USE {LAKE}")
    except BaseException:
        con.close()
        raise
    return con


def connect(
    storage: Storage, working: Path, read_only: bool = False, settings: dict[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection whose current database holds the working tables: the `working` DuckDB file, or the attached
    DuckLake; `settings` holds DuckDB settings (such as memory_limit) for either. A writer to the working file must
    hold the write lock of its database."""
    # settings are SET on the connection, not passed to connect: DuckDB shares one instance per file in a process, and
    # a connect with settings that differ from an open instance's waits for that instance to close
    con = connect_lake(storage, read_only) if storage.lake else duckdb.connect(str(working), read_only=read_only)
    for name, value in (settings or {}).items():
        con.execute(f"SET {name} = {_literal(str(value))}")
    return con


def is_conflict(error: BaseException) -> bool:
    """True for a DuckLake commit that conflicts with one another writer made meanwhile (such as deleting rows of a
    table the other inserted into): running the whole transaction again, on the new snapshot, succeeds."""
    return isinstance(error, duckdb.TransactionException) and "conflict" in str(error).lower()
