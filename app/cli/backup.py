"""``vraagbaak backup`` and ``vraagbaak restore``: the SQL database is the one thing to keep;
the index snapshots are rebuilt from it (``app.core.backup``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from app.cli.access import OPERATOR
from app.core import backup as backups
from app.core.errors import InvalidInput
from app.core.settings import Settings
from app.wiring import Services, build_services

out = Console()


def backup(
    dest: Annotated[Path, typer.Argument(help="The backup file to write (one SQLite file).")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Copy the database to DEST while the server keeps running (SQLite's online backup).

    The index snapshots are not copied: `vraagbaak restore` rebuilds them from the rows.
    On PostgreSQL this says how to use pg_dump instead.

    Example: vraagbaak backup /backups/vraagbaak-$(date +%F).db
    """
    settings = Settings()
    made = backups.backup(settings.resolved_database_url, dest, overwrite=force)
    services = build_services(settings)
    try:
        services.audit.record(OPERATOR.actor, "backup_made", made.path.name,
                              bytes=made.bytes, schema=made.revision)
    finally:
        services.close()
    out.print(f"backed up {made.tables} tables, {made.bytes:,} bytes, schema {made.revision} "
              f"to {made.path}", markup=False, highlight=False)


def restore(
    source: Annotated[Path | None, typer.Argument(
        help="The backup file made by `vraagbaak backup`.")] = None,
    yes: Annotated[bool, typer.Option(
        "--yes", help="Replace the current database without asking.")] = False,
    indexes_only: Annotated[bool, typer.Option(
        "--indexes-only", help="Only rebuild the index snapshots from the database (after a "
        "pg_restore, or when the index directory was lost).")] = False,
) -> None:
    """Replace the database with a backup, then rebuild every index snapshot from its rows.

    Stop the server first: a running server keeps serving what it had loaded. No document is
    parsed and nothing is embedded again: the chunk vectors are stored in the database.

    Example: vraagbaak restore /backups/vraagbaak-2026-12-01.db --yes
    """
    settings = Settings()
    restored: backups.BackupFile | None = None
    if not indexes_only:
        if source is None:
            raise InvalidInput("name the backup file to restore (or pass --indexes-only)",
                               code="no_backup")
        if not yes:
            typer.confirm("Every row of the current database is replaced by the backup. "
                          "Go on?", abort=True)
        restored = backups.restore(source, settings.resolved_database_url)
    services = build_services(settings)  # migrates an older backup's schema up to this code's
    try:
        rebuilt = _rebuild(services)
        if restored is not None:
            services.audit.record(OPERATOR.actor, "backup_restored", restored.path.name,
                                  schema=restored.revision, collections=len(rebuilt))
    finally:
        services.close()
    if restored is not None:
        out.print(f"restored {restored.tables} tables from {restored.path} "
                  f"(schema {restored.revision})", markup=False, highlight=False)
    for name, chunks, fresh in rebuilt:
        state = "rebuilt" if fresh else "already current"
        out.print(f"  {name}: {chunks} chunks, snapshot {state}", markup=False,
                  highlight=False)


def _rebuild(services: Services) -> list[tuple[str, int, bool]]:
    rebuilt = []
    for name in sorted(services.collections.names()):
        report = services.indexer.rebuild(name)
        rebuilt.append((name, report.chunks_total, report.snapshot_rebuilt))
    return rebuilt
