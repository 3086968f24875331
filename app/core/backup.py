"""Backup and restore of the source of truth: the SQL database. Index snapshots are not backed
up: they are derived from the SQL rows (chunk vectors included) and rebuilt after a restore
without re-embedding anything (``Indexer.rebuild``).

SQLite is copied with its online backup API (``sqlite3.Connection.backup``): a consistent copy
while the server keeps serving and writing, WAL included, never a torn file copy. A restore runs
the same API the other way, into the live database file, so SQLite's own locking and journal
keep the file whole; the server should be stopped first all the same, or it serves its old
snapshots until it restarts. PostgreSQL has its own tools (``pg_dump`` / ``pg_restore``); this
module says how to use them rather than wrapping them.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from app.core.db import MIGRATIONS
from app.core.errors import Conflict, InvalidInput


@dataclass(frozen=True)
class BackupFile:
    path: Path
    bytes: int
    revision: str  # the schema's Alembic revision
    tables: int


def sqlite_path(database_url: str) -> Path | None:
    """The database file of a SQLite URL; None for any other database."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite"):
        return None
    if not url.database or url.database == ":memory:":
        raise InvalidInput("an in-memory database has nothing to back up", code="no_database")
    return Path(url.database)


def postgres_guidance(database_url: str) -> str:
    """How to back up and restore a non-SQLite database, with its URL shown without password."""
    shown = make_url(database_url).set(drivername="postgresql").render_as_string(
        hide_password=True)
    return (f"this database is not SQLite: back it up with PostgreSQL's own tools, "
            f"`pg_dump --format=custom --file=vraagbaak.dump '{shown}'`, restore with "
            f"`pg_restore --clean --if-exists --dbname='{shown}' vraagbaak.dump`, then run "
            f"`vraagbaak restore --indexes-only` to rebuild the index snapshots from the rows")


def _describe(db: Path) -> tuple[str, int]:
    """(Alembic revision, table count) of a Vraagbaak database file, or InvalidInput."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            tables = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:  # not SQLite at all, or no alembic_version table
        raise InvalidInput(f"{db.name} is not a Vraagbaak database ({exc})",
                           code="not_a_backup") from None
    if row is None:
        raise InvalidInput(f"{db.name} is not a Vraagbaak database (no schema version)",
                           code="not_a_backup")
    return str(row[0]), int(tables)


def backup(database_url: str, dest: Path, *, overwrite: bool = False) -> BackupFile:
    """Copy the live SQLite database to ``dest``: written beside it, fsynced, then renamed, so
    ``dest`` is either the old file or a whole backup."""
    db = sqlite_path(database_url)
    if db is None:
        raise InvalidInput(postgres_guidance(database_url), code="not_sqlite")
    if not db.exists():
        raise InvalidInput("there is no database to back up yet", code="no_database")
    if dest.exists() and not overwrite:
        raise Conflict(f"{dest.name} exists; pass --force to replace it", code="backup_exists")
    if dest.resolve() == db.resolve():
        raise InvalidInput("the backup must not be the database itself", code="same_file")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(db)
    try:
        out = sqlite3.connect(partial)
        try:
            src.backup(out)  # pages copied under SQLite's locks: consistent while others write
        finally:
            out.close()
    finally:
        src.close()
    with partial.open("rb") as fh:
        os.fsync(fh.fileno())
    partial.replace(dest)
    revision, tables = _describe(dest)
    return BackupFile(dest, dest.stat().st_size, revision, tables)


def restore(source: Path, database_url: str) -> BackupFile:
    """Replace the SQLite database's content with the backup ``source`` (every row of the
    current database is lost). The caller migrates the schema up and rebuilds the indexes."""
    db = sqlite_path(database_url)
    if db is None:
        raise InvalidInput(postgres_guidance(database_url), code="not_sqlite")
    if not source.is_file():
        raise InvalidInput(f"no backup file {source.name}", code="no_backup")
    revision, tables = _describe(source)
    known = {r.revision for r in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}
    if revision not in known:  # a newer release's schema: this code can't migrate it down
        raise InvalidInput(f"{source.name} was made by a newer Vraagbaak (schema {revision}); "
                           "restore it with that version", code="backup_too_new")
    db.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        live = sqlite3.connect(db, timeout=30)
        try:
            src.backup(live)  # into the live file, through its journal: never a torn database
        finally:
            live.close()
    finally:
        src.close()
    return BackupFile(source, source.stat().st_size, revision, tables)
