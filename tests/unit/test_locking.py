"""Locks never deadlock a process on itself, and a wait that times out names the holder."""

import subprocess
import sys
import time

import pytest

from cx_signals.locking import LockTimeout, describe_holder, exclusive_lock

HOLD_SCRIPT = """
import sys, time
from pathlib import Path
from cx_signals.locking import exclusive_lock
with exclusive_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_second_hold_in_the_same_process_does_not_wait_for_itself(tmp_path):
    # the original hang: a step left the write lock held and the next step of the same process flocked the
    # same file through a second descriptor, waiting forever
    lock = tmp_path / "write.lock"
    started = time.monotonic()
    with exclusive_lock(lock, timeout_seconds=5), exclusive_lock(lock, timeout_seconds=5):
        pass
    assert time.monotonic() - started < 2


def test_a_hold_leaked_by_a_failed_step_does_not_block_the_next_step(tmp_path):
    lock = tmp_path / "write.lock"

    def failing_step():
        with exclusive_lock(lock, timeout_seconds=5):
            yield "result"
            raise RuntimeError("never reached: the caller stops iterating")

    leaked = failing_step()
    next(leaked)  # the generator now holds the lock and is never closed
    with exclusive_lock(lock, timeout_seconds=2):
        pass
    leaked.close()


def test_a_wait_that_times_out_says_who_holds_the_lock(tmp_path):
    lock = tmp_path / "run.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_SCRIPT, str(lock)], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(LockTimeout) as raised, exclusive_lock(lock, timeout_seconds=1):
            pass
        waited = time.monotonic() - started
        assert 0.9 <= waited < 10
        message = str(raised.value)
        assert f"pid {holder.pid}" in message and "-c" in message and "since 20" in message
        assert "locks.timeout_seconds" in message
    finally:
        holder.kill()
        holder.wait()
    with exclusive_lock(lock, timeout_seconds=5):  # released when the holder died
        assert f"pid {__import__('os').getpid()}" in describe_holder(lock)


def test_the_lock_file_names_no_holder_once_released(tmp_path):
    lock = tmp_path / "write.lock"
    with exclusive_lock(lock):
        pass
    assert "unknown process" in describe_holder(lock)
