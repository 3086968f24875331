"""Documents are dated at ingest: by what the file states, else by its modification time.
An unchanged file keeps its date (even when only its time on disk moved), a changed file
gets its new one, and a row stored before dates were read is dated in place by the next
sync, without re-embedding or replacing it."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import func, inspect, select, update

from app.core.settings import Settings
from app.knowledge.tables import Chunk, Document
from app.wiring import Services, build_services
from models.fakes import FakeEmbedder, FakeLLM

MIGRATIONS = Path(__file__).resolve().parents[3] / "app" / "migrations"

STATED = "---\ntitle: VPN guide\nupdated: 2022-03-04\n---\n# VPN\n\nReconnect to renew it.\n"
MAIL_TIME = datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC)


def _dates(services: Services) -> dict[str, tuple[int, datetime | None, str | None]]:
    with services.sessions() as session:
        return {path: (doc_id, at, source) for doc_id, path, at, source in session.execute(
            select(Document.id, Document.path, Document.dated_at, Document.dated_from))}


def _set_time(path: Path, at: datetime) -> None:
    os.utime(path, (at.timestamp(), at.timestamp()))


def test_each_document_is_dated_by_what_it_states_else_its_file_time(
        services: Services, kb: Path) -> None:
    (kb / "vpn.md").write_text(STATED)
    _set_time(kb / "mail.txt", MAIL_TIME)
    services.collections.upsert("kb", kb, "en")
    services.indexer.sync("kb")
    dates = _dates(services)
    assert dates["vpn.md"][1:] == (datetime(2022, 3, 4, tzinfo=UTC), "markdown:updated")
    assert dates["mail.txt"][1:] == (MAIL_TIME, "file:mtime")
    # printers.md has no front matter: its file time, which is about now
    at, source = dates["printing/printers.md"][1:]
    assert source == "file:mtime" and at is not None
    assert abs((at - datetime.now(UTC)).total_seconds()) < 600


def test_unchanged_files_keep_their_date_and_changed_files_get_the_new_one(
        services: Services, kb: Path) -> None:
    _set_time(kb / "mail.txt", MAIL_TIME)
    (kb / "vpn.md").write_text(STATED)
    services.collections.upsert("kb", kb, "en")
    services.indexer.sync("kb")
    before = _dates(services)
    # the same bytes with a new time on disk: unchanged, so the stored date stands
    _set_time(kb / "mail.txt", datetime(2024, 6, 1, tzinfo=UTC))
    (kb / "vpn.md").write_text(STATED.replace("2022-03-04", "2024-05-06"))
    report = services.indexer.sync("kb")
    assert (report.changed, report.unchanged) == (1, 2)
    after = _dates(services)
    assert after["mail.txt"] == before["mail.txt"]
    assert after["vpn.md"][1:] == (datetime(2024, 5, 6, tzinfo=UTC), "markdown:updated")


def test_rows_stored_before_dates_are_dated_in_place_by_the_next_sync(
        services: Services, kb: Path) -> None:
    (kb / "vpn.md").write_text(STATED)
    _set_time(kb / "mail.txt", MAIL_TIME)
    services.collections.upsert("kb", kb, "en")
    services.indexer.sync("kb")
    # as the migration leaves them: every row undated
    with services.sessions() as session:
        session.execute(update(Document).values(dated_at=None, dated_from=None))
        session.commit()
    ids = {path: row[0] for path, row in _dates(services).items()}
    embedder = services.embedder
    assert isinstance(embedder, FakeEmbedder)
    calls = embedder.calls
    report = services.indexer.sync("kb")
    assert (report.unchanged, report.changed, report.chunks_embedded) == (3, 0, 0)
    assert not report.snapshot_rebuilt and embedder.calls == calls
    dates = _dates(services)
    assert {path: row[0] for path, row in dates.items()} == ids  # the same rows
    assert dates["vpn.md"][1:] == (datetime(2022, 3, 4, tzinfo=UTC), "markdown:updated")
    assert dates["mail.txt"][1:] == (MAIL_TIME, "file:mtime")
    assert all(row[1] is not None for row in dates.values())


def _alembic(services: Services, action: str, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with services.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, revision)


def test_the_migration_adds_the_dates_and_its_downgrade_keeps_every_chunk(
        db_settings: Settings, kb: Path) -> None:
    services = build_services(db_settings, embedder=FakeEmbedder(), llm=FakeLLM())
    try:
        services.collections.upsert("kb", kb, "en")
        services.indexer.sync("kb")
        with services.sessions() as session:
            chunks = session.scalar(select(func.count()).select_from(Chunk))
        _alembic(services, "downgrade", "0014")
        columns = {c["name"] for c in inspect(services.engine).get_columns("documents")}
        assert "dated_at" not in columns and "dated_from" not in columns
        _alembic(services, "upgrade", "head")
        with services.sessions() as session:
            assert session.scalar(select(func.count()).select_from(Chunk)) == chunks
        # rows from before the migration: undated until the next sync dates them in place
        assert {row[1] for row in _dates(services).values()} == {None}
        services.indexer.sync("kb")
        assert all(row[1] is not None for row in _dates(services).values())
    finally:
        services.close()
