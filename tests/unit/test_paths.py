"""Every database keeps its side files in a folder of its own, so that two databases never share them."""

from pathlib import Path

from cx_signals.paths import database_files


def side_paths(db: Path) -> set[Path]:
    files = database_files(db)
    return {
        files.working,
        files.key_file,
        files.models,
        files.logs,
        files.report,
        files.lock("run"),
        files.lock("write"),
    }


def test_two_databases_in_one_folder_share_no_side_file(tmp_path):
    first, second = side_paths(tmp_path / "a.duckdb"), side_paths(tmp_path / "b.duckdb")
    assert not first & second
    for db, paths in ((tmp_path / "a.duckdb", first), (tmp_path / "b.duckdb", second)):
        assert all(database_files(db).folder in path.parents for path in paths)


def test_the_side_folder_is_named_after_the_whole_file_name(tmp_path):
    # cx.duckdb and cx.db must not meet in one cx.d folder
    assert database_files(tmp_path / "cx.duckdb").folder != database_files(tmp_path / "cx.db").folder
    assert database_files(tmp_path / "cx.duckdb").folder == tmp_path / "cx.duckdb.d"


def test_a_new_published_file_is_staged_beside_its_database_and_found_again_when_left_behind(tmp_path):
    files, other = database_files(tmp_path / "cx.duckdb"), database_files(tmp_path / "cx.db")
    staging = files.staging(123)
    assert staging.parent == tmp_path and staging != other.staging(123) and staging != files.staging(124)
    staging.write_bytes(b"")
    staging.with_name(staging.name + ".wal").write_bytes(b"")
    other.staging(123).write_bytes(b"")
    assert files.stale_stagings() == [staging, staging.with_name(staging.name + ".wal")]
    assert other.stale_stagings() == [other.staging(123)]
