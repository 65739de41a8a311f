"""The landing manifest: a run reads only the files holding its days, and every new, changed or unreadable file."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

from cx_signals.landing import LandingFile
from cx_signals.manifest import LandingManifest

KEY = b"k"
D1, D2, D3 = date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 3)


def landing_file(name: str, sha: str = "a") -> LandingFile:
    return LandingFile("events", Path("/landing/events") / name, f"events/{name}", sha, 10, D1)


def test_known_files_are_read_only_for_their_days_and_new_or_changed_ones_always(tmp_path):
    manifest = LandingManifest(tmp_path / "m.json", KEY)
    first, second, new = landing_file("e1.jsonl"), landing_file("e2.jsonl"), landing_file("e3.jsonl")
    manifest.record(first, {D1})
    manifest.record(second, {D2, D3})
    assert manifest.select([first, second, new], {D2}) == [second, new]
    assert manifest.select([first, second, new], {D1}) == [first, new]
    changed = replace(first, sha256="b")
    assert manifest.days_of(changed) is None
    assert manifest.select([changed, second], {D3}) == [changed, second]


def test_a_file_refused_at_the_path_level_is_always_read(tmp_path):
    manifest = LandingManifest(tmp_path / "m.json", KEY)
    refused = replace(landing_file("link.jsonl"), path_error="resolves outside the landing root")
    manifest.record(refused, {D1})
    assert manifest.select([refused], {D3}) == [refused]


def test_the_manifest_survives_a_reload_forgets_removed_files_and_holds_no_file_name(tmp_path):
    path = tmp_path / "side" / "m.json"
    manifest = LandingManifest(path, KEY)
    kept, removed = landing_file("jo@example.com.jsonl"), landing_file("gone.jsonl")
    manifest.record(kept, {D1})
    manifest.record(removed, {D2})
    manifest.save([kept])
    loaded = LandingManifest.load(path, KEY)
    assert loaded.days_of(kept) == {D1} and loaded.days_of(removed) is None
    assert "example" not in path.read_text() and "jsonl" not in path.read_text()
    assert LandingManifest.load(path, b"another key").days_of(kept) is None


def test_an_unreadable_manifest_means_every_file_is_read(tmp_path):
    path = tmp_path / "m.json"
    path.write_text("{not json")
    assert LandingManifest.load(path, KEY).select([landing_file("e1.jsonl")], {D3}) == [landing_file("e1.jsonl")]
    path.write_text(json.dumps({"version": 99, "files": {}}))
    assert LandingManifest.load(path, KEY).entries == {}
