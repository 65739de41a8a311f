"""The hold-out of alerted journeys: which ones operators must not act on, so that acting can be measured.

The same rule is written in SQL (`sql/signals/friction_alerts.sql`, column `held_out`); this is its Python form, used
by the generator to respect the hold-out and by the tests to check the SQL.
"""

from __future__ import annotations

import hashlib

_HASH_VALUES = 2**32


def held_out(unit_id: str, salt: str, share: float) -> bool:
    """True when `unit_id` (a journey id, or a session alert's alert id) is in the hold-out: the first 32 bits of
    md5(salt + ':' + unit_id), as an unsigned number, are below `share` (0..1) of 2^32. Stable across runs and
    machines; about `share` of ids are held out."""
    digest = hashlib.md5(f"{salt}:{unit_id}".encode(), usedforsecurity=False).hexdigest()
    return int(digest[:8], 16) < share * _HASH_VALUES
