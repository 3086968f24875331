"""``vraagbaak review``: the review queue for reviewers without the web pages.

The commands act as the reviewer named by ``--user`` (or ``VRAAGBAAK_USER``), with that user's
roles and readable collections, and are audited under their name. Example session:

    vraagbaak review list --user rita
    vraagbaak review claim 3f2a... --user rita
    vraagbaak review approve 3f2a... --scores 5,4,5,5 --user rita
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.cli.access import services
from app.core.errors import InvalidInput
from app.core.principal import Principal
from app.review.records import Draft, QueueFilter, Rating
from app.review.vocabulary import REASONS, RUBRIC, SCORE_MAX, SCORE_MIN, STATES
from app.wiring import Services

out = Console()
review_cli = typer.Typer(help="The review queue: list, show, claim, approve, reject.",
                         no_args_is_help=True)
User = Annotated[str, typer.Option("--user", "-u", envvar="VRAAGBAAK_USER",
                                   help="The reviewer you are (needs the reviewer role).")]
DraftId = Annotated[str, typer.Argument(help="The draft id (from `review list`).")]
Scores = Annotated[str, typer.Option(
    help=f"Rubric {SCORE_MIN}-{SCORE_MAX} as {','.join(RUBRIC)}, e.g. 5,4,5,5.")]
Comment = Annotated[str, typer.Option(help="Comment for the agent.")]


def _as(s: Services, username: str) -> tuple[Principal, frozenset[str]]:
    user = s.identity.as_user(username)
    return user, s.access.readable(user)


def _scores(text: str) -> dict[str, int]:
    """``5,4,5,5`` as a rating of the rubric, in its order (the queue checks the range)."""
    parts = text.split(",")
    if len(parts) != len(RUBRIC) or not all(p.strip().isdigit() for p in parts):
        raise InvalidInput(f"--scores takes four numbers {SCORE_MIN}-{SCORE_MAX}: "
                           f"{','.join(RUBRIC)}", code="invalid_scores")
    return {k: int(v) for k, v in zip(RUBRIC, parts, strict=True)}


def _show(d: Draft) -> None:
    out.print(f"[bold]{d.draft_id}[/] {d.state} (ticket {d.ticket_id or '-'}, "
              f"{', '.join(d.collections)}, {d.prompt}, {d.model})")
    out.print(f"question: {d.question}")
    out.print(f"\n[bold]text[/]:\n{d.text or '(the model refused: write the reply)'}\n")
    for s in d.sentences:
        mark = "[green]supported[/]" if s.supported else "[red]not supported[/]"
        out.print(f"  {mark}: {s.text}")
    for c in d.citations:
        out.print(f"  [{c.n}] {c.document}: “{c.quote}”")
    if d.decision:
        out.print(f"decision: {d.decision.model_dump(mode='json')}")


@review_cli.command("list")
def review_list(
    user: User,
    state: Annotated[str | None, typer.Option(help=f"One of {', '.join(STATES)}.")] = None,
    collection: Annotated[str | None, typer.Option()] = None,
    mine: Annotated[bool, typer.Option("--mine", help="Only drafts I hold.")] = False,
) -> None:
    """The queue, oldest first, with the age of the oldest pending draft."""
    with services() as s:
        reviewer, readable = _as(s, user)
        where = QueueFilter(state=state, collection=collection,
                            assignee=user if mine else None)
        result = s.review.queue(reviewer, readable=readable, where=where)
    table = Table("id", "state", "age (min)", "ticket", "collections", "assignee", "question")
    for d in result.drafts:
        table.add_row(d.draft_id, d.state, f"{d.age_s / 60:.0f}", d.ticket_id,
                      ", ".join(d.collections), d.assignee or "-", d.question[:60])
    out.print(table)
    oldest = result.oldest_pending_age_s
    out.print(f"{result.counts}; oldest pending: "
              f"{'-' if oldest is None else f'{oldest / 60:.0f} min'}")


@review_cli.command("show")
def review_show(draft_id: DraftId, user: User) -> None:
    """A draft with its evidence: support flags, citations and quotes."""
    with services() as s:
        reviewer, readable = _as(s, user)
        _show(s.review.get(draft_id, reviewer, readable=readable))


@review_cli.command("claim")
def review_claim(draft_id: DraftId, user: User) -> None:
    """Take a pending draft (or one whose claim lapsed)."""
    with services() as s:
        reviewer, readable = _as(s, user)
        d = s.review.claim(draft_id, reviewer, readable=readable)
    expires = d.claim_expires_at.isoformat() if d.claim_expires_at else "-"
    out.print(f"claimed {draft_id} until {expires}")


@review_cli.command("release")
def review_release(draft_id: DraftId, user: User) -> None:
    """Give a claimed draft back to the queue."""
    with services() as s:
        reviewer, readable = _as(s, user)
        s.review.release(draft_id, reviewer, readable=readable)
    out.print(f"released {draft_id}")


@review_cli.command("approve")
def review_approve(
    draft_id: DraftId, user: User, scores: Scores, comment: Comment = "",
    text_file: Annotated[Path | None, typer.Option(
        help="The final reply text, edited; '-' reads standard input.")] = None,
) -> None:
    """Approve a draft you hold (claims it first if it is pending), with ratings."""
    text = None
    if text_file is not None:
        text = sys.stdin.read() if str(text_file) == "-" else text_file.read_text("utf-8")
    with services() as s:
        reviewer, readable = _as(s, user)
        _claim_if_pending(s, draft_id, reviewer, readable)
        d = s.review.approve(draft_id, reviewer, Rating(_scores(scores), comment),
                             readable=readable, text=text)
    out.print(f"approved {draft_id} (edit distance {d.edit_distance})")


@review_cli.command("reject")
def review_reject(
    draft_id: DraftId, user: User, scores: Scores,
    reason: Annotated[str, typer.Option(help=f"One of {', '.join(REASONS)}.")],
    comment: Comment = "",
) -> None:
    """Reject a draft you hold (claims it first if it is pending), with ratings and a reason."""
    with services() as s:
        reviewer, readable = _as(s, user)
        _claim_if_pending(s, draft_id, reviewer, readable)
        s.review.reject(draft_id, reviewer, Rating(_scores(scores), comment, reason),
                        readable=readable)
    out.print(f"rejected {draft_id} ({reason})")


@review_cli.command("request-changes")
def review_request_changes(draft_id: DraftId, user: User,
                           comment: Annotated[str, typer.Option(help="What should change.")],
                           ) -> None:
    """Send a draft back to its author."""
    with services() as s:
        reviewer, readable = _as(s, user)
        _claim_if_pending(s, draft_id, reviewer, readable)
        s.review.request_changes(draft_id, reviewer, comment, readable=readable)
    out.print(f"changes requested on {draft_id}")


def _claim_if_pending(s: Services, draft_id: str, reviewer: Principal,
                      readable: frozenset[str]) -> None:
    if s.review.get(draft_id, reviewer, readable=readable).state == "pending":
        s.review.claim(draft_id, reviewer, readable=readable)
