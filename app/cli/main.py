"""The ``vraagbaak`` command: a second front door over the same services as the HTTP API.

Every failure is one clear line on stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.answering.records import Answer
from app.cli import backup as backup_commands
from app.cli.access import OPERATOR, audit_cli, grants_cli, teams_cli, tokens_cli, users_cli
from app.cli.evaluation import eval_cli, prompts_cli
from app.cli.owners import owners_cli
from app.cli.privacy import privacy_cli
from app.cli.review import review_cli
from app.core.errors import translate
from app.core.settings import Settings
from app.knowledge.indexing import SyncReport
from app.wiring import Services, build_services

cli = typer.Typer(
    help="Vraagbaak: cited answers from your internal documents, on your own machine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)
cli.add_typer(users_cli, name="users")
cli.add_typer(teams_cli, name="teams")
cli.add_typer(tokens_cli, name="tokens")
cli.add_typer(grants_cli, name="grants")
cli.add_typer(audit_cli, name="audit")
cli.add_typer(review_cli, name="review")
cli.add_typer(eval_cli, name="eval")
cli.add_typer(prompts_cli, name="prompts")
cli.add_typer(owners_cli, name="owners")
cli.add_typer(privacy_cli, name="privacy")
cli.command()(backup_commands.backup)
cli.command()(backup_commands.restore)


def _services() -> Services:
    return build_services(Settings())


@cli.command()
def serve(
    host: Annotated[str, typer.Option(envvar="VRAAGBAAK_HOST",
                                      help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="VRAAGBAAK_PORT", help="TCP port.")] = 8000,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs).

    Example: vraagbaak serve --host 0.0.0.0 --port 8000
    """
    import uvicorn

    from app.core.logs import log_config
    from app.identity.rate_limits import open_storage
    from app.main import create_app

    settings = Settings()
    open_storage(settings.rate_limit_storage)  # a shared limit that can't hold: one error line
    uvicorn.run(create_app(settings), host=host, port=port,
                log_config=log_config(settings.log_format, settings.log_level),
                timeout_graceful_shutdown=settings.shutdown_grace_s)


@cli.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="Folder of documents (the collection root).")],
    collection: Annotated[str, typer.Option("--collection", "-c", help="Collection name.")],
    language: Annotated[str, typer.Option(help="Language for BM25: en, nl, de, fr.")] = "en",
    embedding_model: Annotated[str | None, typer.Option(
        help="Local sentence-transformers directory for this collection (default: the "
             "server's model), e.g. a multilingual model for a Dutch collection.")] = None,
) -> None:
    """Index a folder as a collection; unchanged files are skipped, deleted ones removed.

    Example: vraagbaak ingest demo/kb --collection demo
    """
    # nothing else competes for the cores during a CLI ingest: let torch use them all
    services = build_services(Settings(embedding_threads=0))
    try:
        services.collections.upsert(collection, path, language, embedding_model)
        services.audit.record(OPERATOR.actor, "reindex_started", collection,
                              language=language, embedding_model=embedding_model)
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                      MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                      TimeElapsedColumn(), console=err, transient=True) as bar:
            task = bar.add_task(f"indexing {collection}", total=None, info="scanning")

            def progress(report: SyncReport) -> None:
                bar.update(task, total=report.files_total or None, completed=report.files_done,
                           info=f"{report.chunks_embedded} chunks embedded, "
                                f"{len(report.errors)} skipped")

            report = services.indexer.sync(collection, progress)
        services.audit.record(OPERATOR.actor, "reindex_finished", collection,
                              status="succeeded", **report.summary())
    finally:
        services.close()
    s = report.summary()
    out.print(f"[bold]{collection}[/]: {s['files_total']} files: {s['added']} added, "
              f"{s['changed']} changed, {s['unchanged']} unchanged, {s['removed']} removed, "
              f"{s['skipped']} skipped; {s['chunks_embedded']} chunks embedded, "
              f"{s['chunks_total']} in the index (snapshot {s['snapshot_id']})")
    # names are data: "[/x].md" is a file name, not rich markup (which would raise)
    for e in report.errors:
        out.print(f"  skipped {e['path']}: {e['reason']}", markup=False, highlight=False)
    for w in report.warnings:
        out.print(f"  {w['path']}: {w['reason']}", markup=False, highlight=False)
    for f in report.flagged:
        out.print(f"  flagged as possible prompt injection {f['path']}: {f['reason']}",
                  markup=False, highlight=False)


@cli.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    collection: Annotated[list[str] | None, typer.Option("--collection", "-c",
                          help="Collection(s) to search; default all.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full answer JSON.")] = False,
    user: Annotated[str | None, typer.Option(
        "--user", "-u", help="Ask as this user: only their collections (check access).")] = None,
) -> None:
    """Ask a question and get a cited answer.

    Example: vraagbaak ask "What does VPN error 809 mean?" --collection demo
    """
    services = _services()
    try:
        asker = services.identity.as_user(user) if user else OPERATOR
        readable = services.access.readable(asker)
        answering = services.answers.stream(question, collection or [], allowed=readable,
                                            asker=asker, channel="cli")
        for event in answering:
            if isinstance(event, Answer):
                final = event
            elif not as_json:
                err.print(event.text, end="", style="dim", highlight=False)
        if not as_json and not answering.refused:
            err.print()
    finally:
        services.close()
    if as_json:
        out.print_json(final.model_dump_json())
        return
    out.print(f"\n[bold]{final.answer}[/]\n")
    for s in final.sentences:
        mark = "[green]supported[/]" if s.supported else "[red]not supported[/]"
        out.print(f"  {mark}: {s.text}")
    for c in final.citations:
        where = c.document + (f", page {c.page}" if c.page else "") + (
            f", {c.heading}" if c.heading else "")
        out.print(f"  [{c.n}] {where}{' (inferred)' if c.inferred else ''}\n"
                  f"      “{c.quote}”")


@cli.command("collections")
def list_collections() -> None:
    """List collections with their document and chunk counts and who may read them."""
    services = _services()
    try:
        rows = services.collections.list(readable=services.collections.names())
        grants = services.access.all_grants()
    finally:
        services.close()
    table = Table("name", "language", "documents", "chunks", "readers", "snapshot",
                  "indexed at")
    for r in rows:
        g = grants[r.name]
        readers = ", ".join((["everyone"] if g["everyone"] else []) + g["teams"]) or "admins"
        table.add_row(r.name, r.language, str(r.documents), str(r.chunks),
                      readers, r.snapshot_id or "-", r.indexed_at or "-")
    out.print(table)


def main() -> None:
    try:
        cli()
    except Exception as exc:
        domain = translate(exc, operator=True)  # the operator may read the model paths
        if domain is None:
            raise
        err.print(f"error: {domain.message}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
