"""Industry playbooks: config packs under `config/playbooks/<name>.yml` (docs/playbooks.md).

A pack is an override file like a user's `--config` file: it sets the `playbook` section (the industry's journeys
and intents, PII kinds and required disclosures) and whatever other parameters the industry changes (costs,
containment-with-quality thresholds). The parameters are layered defaults, then the pack, then the user's file,
each deep-merged over the one before. A pack is chosen with `--playbook NAME` or by `playbook: NAME` in the user's
file (so that Dagster runs configured by CX_SIGNALS_CONFIG use it too); a `playbook:` mapping in the user's file is
a pack of one's own, merged like any other section.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cx_signals.bundled import project_dir


class PlaybookError(ValueError):
    """An unknown playbook, a pack that cannot be read, or two different playbooks asked for at once."""


def playbooks_dir() -> Path:
    """The folder of the bundled packs."""
    return project_dir("config") / "playbooks"


def available_playbooks() -> list[str]:
    """Names of the bundled packs, sorted."""
    return sorted(path.stem for path in playbooks_dir().glob("*.yml"))


def read_pack(name: str) -> dict[str, Any]:
    """The override mapping of the pack `name` (PlaybookError when there is no such pack or it is malformed)."""
    path = playbooks_dir() / f"{name}.yml"
    if name not in available_playbooks():
        raise PlaybookError(f"unknown playbook {name!r} (available: {', '.join(available_playbooks())})")
    pack = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(pack, dict) or not isinstance(pack.get("playbook"), dict):
        raise PlaybookError(f"playbook file {path} must hold a mapping with a 'playbook' section")
    if pack["playbook"].get("name") != name:
        raise PlaybookError(f"playbook file {path} must set playbook.name to {name!r}")
    return pack


def requested_playbook(user: dict[str, Any], option: str | None) -> str | None:
    """The bundled pack a run asks for: `option` (--playbook) or the user file's `playbook: NAME`; PlaybookError when
    both name one and they differ. A `playbook:` mapping in the file selects no pack: it is parameters, merged like
    any other section (a pack of one's own)."""
    in_file = user.get("playbook")
    if in_file is not None and not isinstance(in_file, str | dict):
        raise PlaybookError(f"parameter 'playbook' must be a playbook's name or a mapping, got {in_file!r}")
    in_file = in_file if isinstance(in_file, str) else None
    if option and in_file and option != in_file:
        raise PlaybookError(f"--playbook {option} contradicts 'playbook: {in_file}' in the config file")
    return option or in_file


def without_playbook_name(user: dict[str, Any]) -> dict[str, Any]:
    """The user's override without the shorthand `playbook: NAME` (the pack sets the section itself)."""
    if isinstance(user.get("playbook"), dict):
        return user
    return {key: value for key, value in user.items() if key != "playbook"}
