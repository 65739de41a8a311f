"""Keyed pseudonyms for customer, agent and device ids (HMAC-SHA256, key from the environment)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_ENV_VAR = "CX_SIGNALS_PSEUDONYM_KEY"
PSEUDONYM_HEX_CHARS = 20


def pseudonym(value: str | None, key: bytes) -> str | None:
    """The keyed pseudonym of `value`: the first 20 hex chars of HMAC-SHA256(key, value); None stays None."""
    if value is None:
        return None
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX_CHARS]


def pseudonym_key(key_file: Path) -> bytes:
    """The pseudonymisation key: `$CX_SIGNALS_PSEUDONYM_KEY` if set, else a random key kept in `key_file` (mode 0600).

    The key file lets a local install work out of the box; production sets the variable from a secret store.
    Pseudonyms stay stable only while the key does.
    """
    from_env = os.environ.get(KEY_ENV_VAR)
    if from_env:
        return from_env.encode("utf-8")
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            pass
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32))
    return key_file.read_text().strip().encode("utf-8")
