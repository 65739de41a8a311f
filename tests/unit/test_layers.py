"""The library (`cx_signals`) stands on its own: it never imports Dagster or the orchestration layer
(`dagster_defs`), neither at the top of a module nor lazily inside a function."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import cx_signals

LIBRARY = Path(cx_signals.__file__).resolve().parent


def _imported_modules(source: Path) -> set[str]:
    """Every module an import statement of `source` names, wherever the statement sits."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"), str(source))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _is_orchestration(module: str) -> bool:
    """Dagster, its integrations (dagster_duckdb, dagster_pipes, ...) or the project's `dagster_defs`."""
    root = module.split(".")[0]
    return root == "dagster" or root.startswith("dagster_")


def test_no_library_module_imports_dagster_or_the_orchestration_layer():
    sources = sorted(LIBRARY.rglob("*.py"))
    assert len(sources) > 10, f"found only {len(sources)} modules under {LIBRARY}"
    offenders = {
        str(source.relative_to(LIBRARY.parent)): sorted(filter(_is_orchestration, _imported_modules(source)))
        for source in sources
    }
    assert {path: modules for path, modules in offenders.items() if modules} == {}


def test_importing_every_library_module_loads_no_dagster():
    # a fresh interpreter, so that nothing this test session imported counts
    script = """
import json, pkgutil, sys
import cx_signals
imported = []
for module in pkgutil.walk_packages(cx_signals.__path__, "cx_signals."):
    __import__(module.name)
    imported.append(module.name)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("dagster", "dagster_defs") or m.startswith("dagster_"))
print(json.dumps({"imported": imported, "loaded": loaded}))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=600)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "cx_signals.ml.artefacts" in report["imported"] and "cx_signals.config" in report["imported"]
    assert report["loaded"] == []


def test_the_boundary_checks_see_an_import_of_the_orchestration_layer(tmp_path):
    source = tmp_path / "module.py"
    source.write_text("def run():\n    from dagster_defs.runner import run_pipeline\n    import dagster as dg\n")
    assert sorted(filter(_is_orchestration, _imported_modules(source))) == ["dagster", "dagster_defs.runner"]
