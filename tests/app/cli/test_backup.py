"""`vraagbaak backup` and `vraagbaak restore`: the database is copied while it is open, a restore
brings back exactly the backed-up rows, and the index snapshots come back from the stored
vectors without embedding anything."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

import app.cli.backup
from app.cli.access import OPERATOR
from app.core.settings import Settings
from app.wiring import Services, build_services
from ingest.snapshots import current_snapshot_id
from models.fakes import FakeEmbedder, FakeLLM
from tests.app.cli.test_access import assert_one_line_error, data_dir, ok, run_main

__all__ = ["data_dir"]  # the fixture, shared with the other command tests


@pytest.fixture
def embedders(monkeypatch: pytest.MonkeyPatch) -> list[FakeEmbedder]:
    """The commands build their services with a fake embedder; returns the ones they made."""
    made: list[FakeEmbedder] = []

    def with_fakes(settings: Settings, **_: Any) -> Services:
        made.append(FakeEmbedder())
        return build_services(settings, embedder=made[-1], llm=FakeLLM())

    monkeypatch.setattr(app.cli.backup, "build_services", with_fakes)
    return made


def open_services(data_dir: Path) -> Services:
    return build_services(Settings(data_dir=data_dir, warm_up=False),
                          embedder=FakeEmbedder(), llm=FakeLLM())


@pytest.fixture
def indexed(data_dir: Path, tmp_path: Path) -> Path:
    """A collection of two files, indexed; returns the folder."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "vpn.md").write_text("# VPN\n\nReset the VPN token in the self-service portal.\n")
    (docs / "printer.md").write_text("# Printer\n\nThe printer on floor 2 needs badge login.\n")
    services = open_services(data_dir)
    try:
        services.collections.upsert("kb", docs, "en", None)
        services.indexer.sync("kb")
    finally:
        services.close()
    return docs


def fails(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
          *args: str) -> str:
    """``vraagbaak ARGS`` exits 1 with one clean line on stderr, which is returned."""
    code, _out, err = run_main(monkeypatch, capsys, *args)
    assert code == 1, err
    assert_one_line_error(err, "")
    return err


def usernames(data_dir: Path) -> set[str]:
    services = open_services(data_dir)
    try:
        return {u.username for u in services.users.all()}
    finally:
        services.close()


def test_a_restore_brings_back_the_rows_and_rebuilds_the_index_without_embedding(
        data_dir: Path, indexed: Path, tmp_path: Path, embedders: list[FakeEmbedder]) -> None:
    services = open_services(data_dir)
    services.users.create("ann", roles=["agent"], password="correct horse battery")
    services.close()
    target = tmp_path / "backups" / "vraagbaak.db"
    made = ok("backup", str(target))
    assert "backed up" in made.output and target.is_file()
    with sqlite3.connect(target) as conn:  # a whole SQLite file, not a torn copy
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    # after the backup: a user is added and the index directory is lost
    services = open_services(data_dir)
    services.users.create("bob", roles=["agent"], password="correct horse battery")
    services.close()
    assert usernames(data_dir) == {"ann", "bob"}
    for snapshot in (data_dir / "index").rglob("*"):
        if snapshot.is_file():
            snapshot.unlink()

    restored = ok("restore", str(target), "--yes")
    assert "kb: 2 chunks, snapshot rebuilt" in restored.output
    assert usernames(data_dir) == {"ann"}  # exactly the backed-up rows
    assert all(e.calls == 0 for e in embedders)  # the vectors came from the database
    assert current_snapshot_id(data_dir / "index", "kb") is not None

    services = open_services(data_dir)
    try:
        found = services.search.search("VPN token", ["kb"], allowed={"kb"}, k=2)
        assert found.hits and found.hits[0].document == "vpn.md"
        actions = [e["action"] for e in services.audit.entries()]
        assert "backup_restored" in actions
    finally:
        services.close()

    again = ok("restore", "--indexes-only")  # nothing changed since: nothing rebuilt
    assert "kb: 2 chunks, snapshot already current" in again.output


def test_restore_refuses_a_file_that_is_not_a_backup_and_keeps_the_database(
        data_dir: Path, indexed: Path, tmp_path: Path, embedders: list[FakeEmbedder],
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("not a database at all, just text " * 50)
    assert "is not a Vraagbaak database" in fails(monkeypatch, capsys, "restore", str(bogus),
                                                  "--yes")
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    assert "is not a Vraagbaak database" in fails(monkeypatch, capsys, "restore", str(empty),
                                                  "--yes")
    assert "no backup file" in fails(monkeypatch, capsys, "restore", str(tmp_path / "gone.db"),
                                     "--yes")
    services = open_services(data_dir)
    try:
        assert services.collections.names() == {"kb"}
    finally:
        services.close()


def test_restore_refuses_a_backup_of_a_newer_schema(
        data_dir: Path, indexed: Path, tmp_path: Path, embedders: list[FakeEmbedder],
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "newer.db"
    ok("backup", str(target))
    with sqlite3.connect(target) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    assert "made by a newer Vraagbaak" in fails(monkeypatch, capsys, "restore", str(target),
                                                "--yes")


def test_backup_never_overwrites_by_accident(
        data_dir: Path, indexed: Path, tmp_path: Path, embedders: list[FakeEmbedder],
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "b.db"
    target.write_bytes(b"keep me")
    assert "pass --force" in fails(monkeypatch, capsys, "backup", str(target))
    assert target.read_bytes() == b"keep me"
    ok("backup", str(target), "--force")
    assert target.read_bytes().startswith(b"SQLite format 3")


def test_on_postgresql_backup_names_pg_dump_without_the_password(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VRAAGBAAK_DATABASE_URL",
                       "postgresql+psycopg://vb:s3cret@db.example:5432/vraagbaak")
    err = fails(monkeypatch, capsys, "backup", "out.db")
    assert "pg_dump" in err and "pg_restore" in err and "s3cret" not in err


def test_the_operator_is_named_in_the_audit_trail(
        data_dir: Path, indexed: Path, tmp_path: Path, embedders: list[FakeEmbedder]) -> None:
    ok("backup", str(tmp_path / "a.db"))
    services = open_services(data_dir)
    try:
        made = [e for e in services.audit.entries() if e["action"] == "backup_made"]
        assert made and made[0]["actor"] == OPERATOR.actor
    finally:
        services.close()
