"""Cross-process file locks: DuckDB allows one writing process per file, so writers queue on a lock file.

A process holds at most one open file description per lock file: `flock` locks belong to the open file, so a
second `open` + `flock` of the same path in the same process would wait for itself forever. Nested or leaked
holds in one process therefore share one handle and a re-entrant thread lock; other processes wait, up to a
timeout, and are then told who holds the lock.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

_POLL_SECONDS = (0.01, 0.05, 0.1, 0.25, 0.5)


class LockTimeout(TimeoutError):
    """A lock was not obtained within its timeout; the message names the holder (pid, command, since when)."""


@dataclass
class _Hold:
    thread_lock: threading.RLock
    handle: IO[str] | None = None
    depth: int = 0


_HOLDS: dict[str, _Hold] = {}
_HOLDS_GUARD = threading.Lock()


def describe_holder(path: Path) -> str:
    """Who holds the lock at `path`, as its holder recorded it: pid, command and since when (UTC)."""
    try:
        holder = json.loads(Path(path).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        holder = {}
    if not holder:
        return "an unknown process (the lock file names no holder)"
    return f"pid {holder.get('pid')} ({holder.get('command', '?')}) since {holder.get('since', '?')}"


def _timeout_error(path: Path, timeout_seconds: float) -> LockTimeout:
    return LockTimeout(
        f"waited {timeout_seconds:g} s for the lock {path}, held by {describe_holder(path)}; "
        "wait for that run to finish or stop it (locks.timeout_seconds sets the wait)"
    )


def _lock_file(path: Path, deadline: float, timeout_seconds: float) -> IO[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - kept open while the lock is held
    attempt = 0
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                handle.close()
                raise
            if time.monotonic() >= deadline:
                handle.close()
                raise _timeout_error(path, timeout_seconds) from None
            time.sleep(_POLL_SECONDS[min(attempt, len(_POLL_SECONDS) - 1)])
            attempt += 1
    handle.seek(0)
    handle.truncate()
    holder = {
        "pid": os.getpid(),
        "command": " ".join(sys.argv)[:300],
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    handle.write(json.dumps(holder))
    handle.flush()
    return handle


@contextmanager
def exclusive_lock(path: Path, timeout_seconds: float = 600) -> Iterator[None]:
    """Hold an exclusive advisory lock on `path`, waiting at most `timeout_seconds` (then LockTimeout).

    Re-entrant within a process: a nested hold (or one a failed step leaked) reuses the process's handle instead
    of deadlocking on it. Released on exit of the outermost hold, or when the process dies.
    """
    key = os.path.realpath(path)
    with _HOLDS_GUARD:
        hold = _HOLDS.setdefault(key, _Hold(threading.RLock()))
    deadline = time.monotonic() + timeout_seconds
    if not hold.thread_lock.acquire(timeout=max(timeout_seconds, 0)):
        raise _timeout_error(Path(path), timeout_seconds)
    try:
        if hold.depth == 0:
            hold.handle = _lock_file(Path(path), deadline, timeout_seconds)
        hold.depth += 1
        try:
            yield
        finally:
            hold.depth -= 1
            if hold.depth == 0 and hold.handle is not None:
                hold.handle.seek(0)
                hold.handle.truncate()
                fcntl.flock(hold.handle, fcntl.LOCK_UN)
                hold.handle.close()
                hold.handle = None
    finally:
        hold.thread_lock.release()
