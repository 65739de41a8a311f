"""The docs cite only what exists: relative links (and their anchors) and backticked repository paths of README.md
and docs/*.md name files of the repository, and no file mentions the spec that is not part of it."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```.*?^```", flags=re.MULTILINE | re.DOTALL)
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_CODE = re.compile(r"`([^`\n]+)`")
# a path, optionally followed by :name of a function or class in it (cx_signals/db.py:publish)
_PATH = re.compile(r"(?P<path>[\w.\-/*]+)(?::(?P<name>\w+))?")
_OUTSIDE = ("http://", "https://", "mailto:")


@cache
def repository_files() -> frozenset[str]:
    """Paths (POSIX, relative to the root) of the files git tracks or would track, that exist."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode("utf-8", "surrogateescape")
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"not a git checkout, so the repository's files are unknown: {exc}")
    return frozenset(p for p in listed.split("\0") if p and (ROOT / p).is_file())


def exists(path: str) -> bool:
    """True when `path` (relative to the root; a folder ending in / or a glob allowed) names repository files."""
    files = repository_files()
    path = path.rstrip("/") if path != "/" else path
    if "*" in path:
        pattern = re.compile(re.escape(path).replace(r"\*", "[^/]*") + "$")
        return any(pattern.match(f) for f in files)
    return path in files or any(f.startswith(path + "/") for f in files)


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of every heading of `page`, with GitHub's -1, -2 suffixes for repeated headings."""
    seen: dict[str, int] = {}
    result = set()
    for heading in re.findall(r"^#{1,6} (.+)$", _FENCE.sub("", page.read_text(encoding="utf-8")), re.MULTILINE):
        base = slug(heading)
        count = seen.get(base, 0)
        result.add(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    return result


def prose(page: Path) -> str:
    """The page's text without fenced code blocks (commands and SQL, not references)."""
    return _FENCE.sub("", page.read_text(encoding="utf-8"))


def broken_links(text: str, page: Path) -> list[str]:
    """Relative links of `text` (the prose of `page`) to no repository file, or to a heading the page lacks."""
    broken = []
    for target in _LINK.findall(text):
        if target.startswith(_OUTSIDE):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        try:
            relative = resolved.relative_to(ROOT).as_posix()
        except ValueError:
            broken.append(f"{target} (outside the repository)")
            continue
        if not exists(relative):
            broken.append(target)
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target} (no such heading)")
    return broken


def broken_paths(text: str) -> list[str]:
    """Backticked paths of `text` whose first part is a top-level entry of the repository but that name no file (or a
    `file:name` whose file does not hold the name)."""
    top = {f.split("/")[0] for f in repository_files()}
    broken = []
    for code in _CODE.findall(text):
        match = _PATH.fullmatch(code)
        if not match or match["path"].split("/")[0] not in top:
            continue
        path, name = match["path"], match["name"]
        if "/" not in path and not path.startswith(".") and path not in repository_files():
            continue  # a bare word such as `config` or `tests` that is also a folder's name
        if not exists(path):
            broken.append(code)
        elif name and not re.search(rf"\b{name}\b", (ROOT / path).read_text(encoding="utf-8")):
            broken.append(f"{code} (no {name} in {path})")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_name_existing_files_and_headings(page: Path) -> None:
    broken = broken_links(prose(page), page)
    assert not broken, f"{page.name} links to what does not exist: {broken}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_backticked_repository_paths_exist(page: Path) -> None:
    broken = broken_paths(prose(page))
    assert not broken, f"{page.name} cites paths that do not exist: {broken}"


def test_the_checks_find_what_is_missing() -> None:
    assert exists("sql/metrics/") and exists("data_contracts/inputs/*.yml") and exists("README.md")
    assert not exists("sql/nothing.sql") and not exists("data_contracts/inputs/*.toml")
    assert "metricsdaily_outcomes" in anchors(ROOT / "docs" / "data-dictionary.md")
    assert slug("metrics.agent_daily (day × agent) — `sql/metrics/agent_daily.sql`") == (
        "metricsagent_daily-day--agent--sqlmetricsagent_dailysql"
    )
    text = (
        "[a](missing.md) [b](metrics.md#no-such) [c](https://x.org/y) [d](../../etc/passwd) [e](#metricsagent_daily)"
        " [f](../sql/questions/) `sql/gone.sql` `cx_signals/db.py:nope` `cx_signals/db.py:publish` `x/y` `tests`"
    )
    page = ROOT / "docs" / "data-dictionary.md"
    assert broken_links(text, page) == [
        "missing.md",
        "metrics.md#no-such (no such heading)",
        "../../etc/passwd (outside the repository)",
    ]
    assert broken_paths(text) == ["sql/gone.sql", "cx_signals/db.py:nope (no nope in cx_signals/db.py)"]


def test_nothing_mentions_the_outside_spec() -> None:
    name = "DESIGN" + ".md"
    mentions = [
        f
        for f in repository_files()
        if name.lower().encode() in (ROOT / f).read_bytes().lower() and not f.endswith(".png")
    ]
    assert not mentions, f"{name} is not part of the repository, yet these files mention it: {sorted(mentions)}"
