"""Cross-process file locks: DuckDB allows one writing process per file, so writers queue on a lock file."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def lock_path(database: Path, purpose: str) -> Path:
    """The lock file for `purpose` ('run' or 'write') beside `database`."""
    return database.with_name(f".{database.name}.{purpose}.lock")


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on `path`, waiting for other holders; released on exit or process death."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
