"""``vraagbaak privacy``: the retention job on demand and the audited export of one person's
records, run by the operator at the server (who acts as an admin, audited by their
operating-system account). Examples:

    vraagbaak privacy retention --dry-run
    vraagbaak privacy retention
    vraagbaak privacy export --user ann --output ann.json
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from app.cli.access import OPERATOR, services

out = Console()
privacy_cli = typer.Typer(help="Retention of question texts; export of one person's records.",
                          no_args_is_help=True)


@privacy_cli.command("retention")
def retention(dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Count what would be anonymised or deleted; change nothing.")] = False,
              ) -> None:
    """Anonymise or delete question texts older than privacy.question_days (the mode is
    privacy.retention_mode). Example: vraagbaak privacy retention --dry-run"""
    with services() as s:
        report = s.retention.run(dry_run=dry_run, actor=OPERATOR.actor)
    verb = {"anonymise": "anonymised", "delete": "deleted"}[report.mode]
    out.print(f"{'would be ' if dry_run else ''}{verb}: texts before "
              f"{report.cutoff.isoformat(timespec='seconds')}", highlight=False)
    for table, n in sorted(report.rows.items()):
        out.print(f"  {table}: {n} rows", highlight=False)
    if not report.rows:
        out.print("  nothing to do", highlight=False)


@privacy_cli.command("export")
def export(user: Annotated[str, typer.Option("--user", "-u", help="Whose records.")],
           output: Annotated[Path | None, typer.Option(
               "--output", "-o", help="Write the JSON here instead of to stdout.")] = None,
           ) -> None:
    """Export one person's answers, conversations, feedback, hand-offs, drafts and NPS rows
    as JSON; the audit trail records the export. Example: vraagbaak privacy export -u ann"""
    with services() as s:
        exported = s.privacy.export(user, OPERATOR)
    text = exported.model_dump_json(indent=2)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        counted = ", ".join(f"{n} {k}" for k, n in exported.counts().items())
        out.print(f"wrote {output}: {counted}", highlight=False, soft_wrap=True)
