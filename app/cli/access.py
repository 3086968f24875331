"""``vraagbaak users | teams | tokens | grants | audit``: the admin's access commands.

The command line runs on the server with the database at hand, so it acts as an admin; every
change it makes goes to the audit trail under ``cli:<operating-system user>``.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.audit.log import AuditFilter, to_csv, to_jsonl
from app.core.errors import InvalidInput
from app.core.principal import Principal
from app.core.settings import Settings
from app.identity.tables import ROLES
from app.wiring import Services, build_services

out = Console()
err = Console(stderr=True)
OPERATOR = Principal.operator()

users_cli = typer.Typer(help="Users: create, list, change roles/teams, disable, set passwords.",
                        no_args_is_help=True)
teams_cli = typer.Typer(help="Teams: groups of users that collections are granted to.",
                        no_args_is_help=True)
tokens_cli = typer.Typer(help="Personal API tokens: create (shown once), list, revoke.",
                         no_args_is_help=True)
grants_cli = typer.Typer(help="Who may read which collection.", no_args_is_help=True)
audit_cli = typer.Typer(help="The tamper-evident audit trail: verify and export.",
                        no_args_is_help=True)

# plain strings: the user service checks them, so a wrong role is its one-line error
Roles = Annotated[list[str] | None, typer.Option(
    "--role", "-r", help=f"{', '.join(ROLES[:-1])} or {ROLES[-1]}; repeatable.")]
Teams = Annotated[list[str] | None, typer.Option("--team", "-t", help="Team name; repeatable.")]


@contextmanager
def services() -> Iterator[Services]:
    built = build_services(Settings(warm_up=False))
    try:
        yield built
    finally:
        built.close()


def read_password(from_stdin: bool) -> tuple[str, bool]:
    """(password, generated): from stdin, a hidden prompt, or a random one when not a TTY."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n"), False
    if sys.stdin.isatty():
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True), False
    return secrets.token_urlsafe(15), True


# -- users ---------------------------------------------------------------------------------------
@users_cli.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="Login name: lower-case letters, digits, . - _")],
    role: Roles = None,
    team: Teams = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from standard input.")] = False,
    generate_password: Annotated[bool, typer.Option(
        "--generate-password", help="Generate a random password and print it once.")] = False,
    no_password: Annotated[bool, typer.Option(
        "--no-password", help="No password sign-in: API tokens only.")] = False,
    if_missing: Annotated[bool, typer.Option(
        "--if-missing", help="Do nothing if the user exists (for scripts).")] = False,
) -> None:
    """Create a user. The password is prompted for; when not on a terminal (or with
    --generate-password) a random one is generated and printed once.

    Example: vraagbaak users create admin --role admin
    """
    with services() as s:
        if if_missing and any(u.username == username for u in s.users.all()):
            out.print(f"user {username} exists; left as it is")
            return
        if no_password:
            password, generated = None, False
        elif generate_password:
            password, generated = secrets.token_urlsafe(15), True
        else:
            password, generated = read_password(password_stdin)
        user = s.users.create(username, roles=role or ["agent"], teams=team or [],
                              password=password)
        s.audit.record(OPERATOR.actor, "user_created", username, roles=user.roles,
                       teams=user.teams, sign_in=user.password_set)
    out.print(f"created {username} ({', '.join(user.roles)})"
              + (f" in {', '.join(user.teams)}" if user.teams else ""))
    if generated:
        out.print(f"generated password (shown once): {password}", highlight=False)


@users_cli.command("list")
def users_list() -> None:
    """List users with their roles and teams."""
    with services() as s:
        rows = s.users.all()
    table = Table("username", "roles", "teams", "active", "password")
    for u in rows:
        table.add_row(u.username, ", ".join(u.roles), ", ".join(u.teams),
                      "yes" if u.active else "disabled", "set" if u.password_set else "-")
    out.print(table)


@users_cli.command("set")
def users_set(
    username: Annotated[str, typer.Argument()],
    role: Roles = None,
    team: Teams = None,
    no_teams: Annotated[bool, typer.Option("--no-teams", help="Remove from every team.")] = False,
    active: Annotated[bool | None, typer.Option(
        "--active/--disabled", help="Disabling revokes all tokens and sessions.")] = None,
    password: Annotated[bool, typer.Option("--password", help="Set a new password (prompted, "
                                           "or read from standard input when piped).")] = False,
) -> None:
    """Change a user's roles (replaces them), teams (replaces them), status or password.

    Example: vraagbaak users set alice --role agent --role reviewer --team support
    """
    with services() as s:
        new_password = read_password(not sys.stdin.isatty())[0] if password else None
        teams = [] if no_teams else team
        user = s.users.update(username, roles=role, teams=teams, active=active,
                              password=new_password)
        if active is False:
            s.identity.tokens.revoke_all(user.id)
        s.audit.record(OPERATOR.actor, "user_changed", username, roles=role, teams=teams,
                       active=active, credentials_reset=password)
    out.print(f"{username}: {', '.join(user.roles)}; teams: {', '.join(user.teams) or '-'}"
              f"; {'active' if user.active else 'disabled'}")


# -- teams ---------------------------------------------------------------------------------------
@teams_cli.command("create")
def teams_create(name: Annotated[str, typer.Argument()]) -> None:
    """Create a team. Example: vraagbaak teams create support"""
    with services() as s:
        s.users.create_team(name)
        s.audit.record(OPERATOR.actor, "team_created", name)
    out.print(f"created team {name}")


@teams_cli.command("list")
def teams_list() -> None:
    """List teams and their members."""
    with services() as s:
        for t in s.users.teams():
            out.print(f"{t.name}: {', '.join(t.members) or '-'}")


# -- tokens --------------------------------------------------------------------------------------
@tokens_cli.command("create")
def tokens_create(
    username: Annotated[str, typer.Argument()],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "",
    expires_days: Annotated[int | None, typer.Option(
        help="Lifetime in days (default: auth.token_days).")] = None,
) -> None:
    """Create an API token and print it (only this once; it is stored hashed).

    Example: TOKEN=$(vraagbaak tokens create alice --name laptop)
    """
    with services() as s:
        created = s.identity.create_token(
            OPERATOR, username, name=name,
            expires_days=s.settings.auth.token_days if expires_days is None else expires_days)
    err.print(f"token {created.prefix} for {username}, expires {created.expires_at}")
    print(created.token)


@tokens_cli.command("list")
def tokens_list(username: Annotated[str, typer.Argument()]) -> None:
    """List a user's tokens (prefix only)."""
    with services() as s:
        rows = s.identity.tokens.list(s.users.get(username).id)
    table = Table("id", "prefix", "name", "created", "expires", "last used", "state")
    for t in rows:
        state = "revoked" if t.revoked else "expired" if t.expired else "active"
        table.add_row(t.id, t.prefix, t.name, t.created_at[:16], (t.expires_at or "never")[:16],
                      (t.last_used_at or "-")[:16], state)
    out.print(table)


@tokens_cli.command("revoke")
def tokens_revoke(token_id: Annotated[str, typer.Argument(help="The id from `tokens list`.")],
                  ) -> None:
    """Revoke a token; the next request with it gets 401."""
    with services() as s:
        view = s.identity.revoke_token(OPERATOR, token_id, own_only=False)
    out.print(f"revoked {view.prefix}")


# -- grants --------------------------------------------------------------------------------------
def _print_grants(g: dict[str, object]) -> None:
    teams = g["teams"]
    assert isinstance(teams, list)
    who = ["everyone"] if g["everyone"] else []
    who += [f"team {t}" for t in teams]
    out.print(f"{g['collection']}: {', '.join(who) or 'admins only'}")


@grants_cli.command("show")
def grants_show(collection: Annotated[str | None, typer.Argument()] = None) -> None:
    """Who may read each collection (admins read all)."""
    with services() as s:
        rows = [s.access.grants(collection)] if collection else list(s.access.all_grants()
                                                                       .values())
    for g in rows:
        _print_grants(g)


def _change(collection: str, everyone: bool | None, add: list[str], remove: list[str]) -> None:
    if everyone is None and not add and not remove:
        raise InvalidInput("say --team NAME and/or --everyone", code="nothing_to_change")
    with services() as s:
        before, after = s.access.set_grants(collection, everyone=everyone, add=add,
                                            remove=remove)
        if before != after:
            s.audit.record(OPERATOR.actor, "grants_changed", collection,
                           before={k: before[k] for k in ("everyone", "teams")},
                           after={k: after[k] for k in ("everyone", "teams")})
    _print_grants(after)


@grants_cli.command("add")
def grants_add(collection: Annotated[str, typer.Argument()], team: Teams = None,
               everyone: Annotated[bool, typer.Option("--everyone")] = False) -> None:
    """Let teams (or everyone) read a collection.

    Example: vraagbaak grants add hr-playbooks --team hr
    """
    _change(collection, True if everyone else None, team or [], [])


@grants_cli.command("remove")
def grants_remove(collection: Annotated[str, typer.Argument()], team: Teams = None,
                  everyone: Annotated[bool, typer.Option("--everyone")] = False) -> None:
    """Stop teams (or everyone) reading a collection; the next request obeys it."""
    _change(collection, False if everyone else None, [], team or [])


# -- audit ---------------------------------------------------------------------------------------
@audit_cli.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; exit 1 and name the first broken entry if it was altered.
    Keep the printed head hash somewhere else: it proves later that nothing was rewritten."""
    with services() as s:
        v = s.audit.verify()
    if v.ok:
        out.print(f"audit trail intact: {v.entries} entries, head {v.head_hash}")
        return
    err.print(f"audit trail BROKEN at entry {v.broken_seq}: {v.reason} "
              f"({v.entries} entries verified before it)")
    raise typer.Exit(1)


@audit_cli.command("export")
def audit_export(
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    actor: Annotated[str | None, typer.Option(help="Only this user.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action.")] = None,
    since: Annotated[datetime | None, typer.Option(help="ISO time, inclusive.")] = None,
    until: Annotated[datetime | None, typer.Option(help="ISO time, exclusive.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File; default "
                                                "standard output.")] = None,
) -> None:
    """Export the audit trail, oldest first.

    Example: vraagbaak audit export --format csv --action login_failed -o failed.csv
    """
    if fmt not in ("jsonl", "csv"):
        raise InvalidInput("--format is jsonl or csv", code="invalid_format")
    with services() as s:
        rows = s.audit.entries(AuditFilter(actor=actor, action=action, since=since,
                                           until=until))
        lines = to_csv(rows) if fmt == "csv" else to_jsonl(rows)
        if output is None:
            for line in lines:
                sys.stdout.write(line)
        else:
            with output.open("w", encoding="utf-8", newline="") as f:
                f.writelines(lines)
        s.audit.record(OPERATOR.actor, "audit_exported", format=fmt,
                       filter={"actor": actor, "action": action, "since": str(since or ""),
                               "until": str(until or "")})
