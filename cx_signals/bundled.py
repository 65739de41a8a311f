"""Where the files bundled with cx-signals live: its SQL, data contracts and default config (in a source checkout
or inside an installed wheel)."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def project_dir(name: str) -> Path:
    """Return the directory `name` (sql, data_contracts, config) of an installed wheel or a source checkout."""
    bundled = _PACKAGE_DIR / "_bundled" / name
    if bundled.is_dir():
        return bundled
    source = _PACKAGE_DIR.parent / name
    if source.is_dir():
        return source
    raise FileNotFoundError(f"cx-signals cannot find its '{name}' directory (looked in {bundled} and {source})")
