"""``vraagbaak owners add | remove | list``: who owns a collection or a folder of it.

Knowledge issues (thumbs-downs, rejected drafts, disputed refusals) on a document go to the
owners of the deepest folder holding it, else to the collection's; the command line acts as
an admin and every change is audited under ``cli:<operating-system user>``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from app.cli.access import OPERATOR, out, services

owners_cli = typer.Typer(help="Knowledge owners: who answers for a collection or a folder.",
                         no_args_is_help=True)

Collection = Annotated[str, typer.Argument(help="Collection name.")]
User = Annotated[str | None, typer.Option("--user", "-u", help="A username.")]
Team = Annotated[str | None, typer.Option("--team", "-t", help="A team name.")]
Folder = Annotated[str, typer.Option(
    "--folder", "-f", help="A folder inside the collection; default: all of it.")]


@owners_cli.command("add")
def owners_add(collection: Collection, user: User = None, team: Team = None,
               folder: Folder = "") -> None:
    """Make a user or a team an owner of the collection, or of one folder of it.

    Example: vraagbaak owners add kb --team printing --folder printing
    """
    with services() as s:
        owner = s.owners.add(collection, OPERATOR, user=user, team=team, folder=folder)
    out.print(f"{owner.kind} {owner.name} owns {collection}/{owner.folder}")


@owners_cli.command("remove")
def owners_remove(collection: Collection, user: User = None, team: Team = None,
                  folder: Folder = "") -> None:
    """Remove an owner (the same arguments as ``add``).

    Example: vraagbaak owners remove kb --user olga
    """
    with services() as s:
        s.owners.remove_named(collection, OPERATOR, user=user, team=team, folder=folder)
    out.print(f"removed {'user ' + user if user else 'team ' + (team or '')} from "
              f"{collection}/{folder.strip('/')}")


@owners_cli.command("list")
def owners_list(collection: Annotated[str | None, typer.Argument(
        help="Collection name; default: every collection.")] = None) -> None:
    """List the owners of a collection (or of all), by folder.

    Example: vraagbaak owners list kb
    """
    with services() as s:
        names = [collection] if collection else sorted(s.collections.names())
        owners = [o for name in names for o in s.owners.of(name)]
    table = Table("collection", "folder", "kind", "owner", "since")
    for o in owners:
        table.add_row(o.collection, o.folder or "(all)", o.kind, o.name,
                      o.created_at.isoformat()[:16])
    out.print(table)
