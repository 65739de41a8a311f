"""The CLI as a person meets it: --version and --help, `query`, `validate` (a dry run that writes nothing), a
headline table that fits 80 columns, the reason a model table is empty, and nothing written into the current folder
unless asked."""

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import duckdb
import pytest
import typer

import cx_signals
from cx_signals.config import load_config
from cx_signals.dry_run import dry_run
from dagster_defs.cli import app

pytestmark = pytest.mark.slow
CLI = str(Path(sys.executable).with_name("cx-signals"))


def cx_in(cwd: Path, *args: str, columns: int | None = None) -> subprocess.CompletedProcess:
    """`cx-signals ARGS` run from `cwd`, without DAGSTER_HOME (and with COLUMNS when given)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "COLUMNS")}
    if columns:
        env["COLUMNS"] = str(columns)
    return subprocess.run([CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under `root` with its size and modification time."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """`cx-signals demo` (30 customers, 3 days: too few surveys to train the models) from an empty folder, at 80
    columns: (that folder, the database, the result)."""
    root = tmp_path_factory.mktemp("cli")
    cwd = root / "cwd"
    cwd.mkdir()
    db = root / "out" / "cx.duckdb"
    result = cx_in(cwd, "demo", "--db", str(db), "--customers", "30", "--days", "3", columns=80)
    assert result.returncode == 0, result.stdout + result.stderr
    return cwd, db, result


def test_version_and_help_show_an_example_for_every_command_and_describe_every_option(tmp_path):
    result = cx_in(tmp_path, "--version")
    assert result.returncode == 0 and result.stdout.strip() == f"cx-signals {cx_signals.__version__}"
    group = typer.main.get_command(app)
    commands = {name: command for name, command in group.commands.items() if not hasattr(command, "commands")}
    commands |= {f"bench {name}": command for name, command in group.commands["bench"].commands.items()}
    assert {"run", "query", "validate", "demo", "report", "bench pipeline"} <= set(commands)
    for name, command in commands.items():
        assert (command.epilog or "").startswith(f"Example: cx-signals {name}"), name
        assert command.help, name
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "help":
                assert param.help, f"{name} {param.opts[0]} has no description"
    shown = cx_in(tmp_path, "query", "--help", columns=100)
    assert "Example: cx-signals query" in shown.stdout and "--format" in shown.stdout
    assert list(tmp_path.iterdir()) == []


def test_the_headline_table_fits_80_columns(demo):
    _, _, result = demo
    lines = result.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if "headline metrics" in line)
    rule = next(i for i in range(start, len(lines)) if "────" in lines[i])
    block = lines[start : next(i for i in range(rule, len(lines)) if not lines[i].strip())]
    assert any(line.split()[:1] == ["chat"] for line in block), block
    assert max(len(line) for line in block) <= 80, block


def test_the_summary_says_why_a_model_table_is_empty(demo):
    _, db, result = demo
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM signals.csat_predictions").fetchone()[0] == 0
        note = con.execute(
            "SELECT any_value(note) FROM audit.runs WHERE asset = 'models.csat_model' AND note LIKE 'not trained%'"
        ).fetchone()[0]
    text = " ".join(result.stdout.split())  # wrapped at 80 columns
    assert "signals.csat_predictions: is empty: no CSAT model" in text
    assert "need at least 30 surveyed contacts" in note and " ".join(note.split()) in text


def test_query_prints_a_table_csv_or_json_read_only_and_one_line_errors(demo, tmp_path):
    _, db, _ = demo
    sql = "SELECT channel, count(*) AS contacts FROM metrics.contact_outcomes GROUP BY 1 ORDER BY 1"
    with duckdb.connect(str(db), read_only=True) as con:
        expected = con.execute(sql).fetchall()
    table = cx_in(tmp_path, "query", sql, "--db", str(db))
    assert table.returncode == 0, table.stderr
    assert "channel" in table.stdout and f"{len(expected)} rows" in table.stdout
    csv_out = cx_in(tmp_path, "query", sql, "--db", str(db), "--format", "csv")
    assert csv_out.stdout.splitlines() == ["channel,contacts", *(f"{c},{n}" for c, n in expected)]
    json_out = cx_in(tmp_path, "query", sql, "--db", str(db), "--format", "json")
    assert json.loads(json_out.stdout) == [{"channel": c, "contacts": n} for c, n in expected]
    limited = cx_in(tmp_path, "query", "FROM raw.turns", "--db", str(db), "--max-rows", "2")
    assert "not shown" in limited.stdout
    bad = cx_in(tmp_path, "query", "SELEC 1", "--db", str(db))
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and 'syntax error at or near "SELEC"' in bad.stderr
    for statement in ("DELETE FROM metrics.contact_outcomes", f"COPY metrics.contact_outcomes TO '{tmp_path}/x.csv'"):
        refused = cx_in(tmp_path, "query", statement, "--db", str(db))
        assert refused.returncode == 2, statement
    missing = cx_in(tmp_path, "query", "SELECT 1", "--db", str(tmp_path / "none.duckdb"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    assert list(tmp_path.iterdir()) == []
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute(sql).fetchall() == expected


@pytest.fixture(scope="module")
def landing_with_damage(demo, tmp_path_factory) -> Path:
    """The demo's landing files plus a broken transcript, a telemetry record breaking its contract and a file of
    unknown shape."""
    _, db, _ = demo
    landing = tmp_path_factory.mktemp("validate") / "landing"
    shutil.copytree(db.parent / "landing", landing, ignore=shutil.ignore_patterns("_truth"))
    with gzip.open(landing / "transcripts" / "transcripts-2026-10-02.jsonl.gz", "at") as handle:
        handle.write('{"conversation_id": "broken", "channel": "chat", "turns": [\n')
    with (landing / "telemetry" / "telemetry-2026-10-02.jsonl").open("a") as handle:
        handle.write(json.dumps({"ts": "2026-10-02T10:00:00Z", "app": "fridge", "kind": "error", "name": "E"}) + "\n")
    (landing / "events" / "export.jsonl").write_text('{"foo": 1}\n')
    return landing


def test_validate_reports_per_file_what_would_load_and_why_the_rest_would_not_and_writes_nothing(
    landing_with_damage, tmp_path
):
    before = tree(landing_with_damage.parent)
    result = cx_in(tmp_path, "validate", "--landing", str(landing_with_damage))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "transcripts/transcripts-2026-10-02.jsonl.gz" in out and "1 x unparseable_record" in out
    assert "telemetry/telemetry-2026-10-02.jsonl" in out and "1 x not_allowed (app)" in out
    assert "events/export.jsonl" in out and "unknown_format" in out and "formats tried" in out
    assert "nothing written" in out
    assert tree(landing_with_damage.parent) == before  # no database, side folder, manifest or key
    assert list(tmp_path.iterdir()) == []


def test_validate_exits_3_when_a_run_would_and_2_on_a_missing_folder(tmp_path):
    (tmp_path / "landing" / "events").mkdir(parents=True)
    (tmp_path / "landing" / "events" / "export.jsonl").write_text('{"foo": 1}\n')
    (tmp_path / "cwd").mkdir()
    result = cx_in(tmp_path / "cwd", "validate", "--landing", str(tmp_path / "landing"))
    assert result.returncode == 3 and "events: more than 50% of the records would be quarantined" in result.stderr
    missing = cx_in(tmp_path / "cwd", "validate", "--landing", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    assert list((tmp_path / "cwd").iterdir()) == []


def test_validate_counts_are_those_the_run_gives(demo):
    """On the demo's files, the dry run's records per file equal what the run read (audit.runs)."""
    _, db, _ = demo
    verdict = dry_run(db.parent / "landing", load_config())
    with duckdb.connect(str(db), read_only=True) as con:
        read = dict(
            con.execute(
                """SELECT f.file, sum(f.rows) FROM (SELECT unnest(from_json(inputs, '[{"file": "VARCHAR",
                "rows": "BIGINT"}]')) AS f FROM audit.runs WHERE asset IN ('raw.conversations', 'raw.telemetry',
                'raw.events')) GROUP BY ALL"""
            ).fetchall()
        )
        loaded = con.execute("SELECT count(*) FROM raw.events").fetchone()[0]
    assert {f.file: f.records for f in verdict.files} == read
    assert sum(f.loaded for f in verdict.files if f.source == "events") == loaded
    assert all(f.quarantined == 0 and f.file_error is None for f in verdict.files)


def test_no_command_writes_into_the_current_folder_unless_asked(demo, tmp_path):
    cwd, db, _ = demo
    landing = db.parent / "landing"
    for args in (
        ("generate", "--out", str(tmp_path / "generated"), "--days", "1", "--customers", "5"),
        ("query", "SELECT 1", "--db", str(db)),
        ("validate", "--landing", str(landing)),
        ("report", "--db", str(db)),
        ("evaluate", "--landing", str(landing), "--db", str(db)),
        ("bench", "sentiment", "--landing", str(landing), "--processes", "1"),
        ("erase", "--db", str(db), "--customer-id", "nobody"),
        ("--help",),
    ):
        result = cx_in(cwd, *args)
        assert result.returncode == 0, (args, result.stdout + result.stderr)
    assert list(cwd.iterdir()) == []  # the demo ran here too
    assert (db.parent / "cx.duckdb.d" / "report.html").is_file()  # report's default: the side folder
