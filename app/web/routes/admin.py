"""The admin's pages: collections (create from a folder under the document roots, re-index
with a live progress bar, who may read), users and teams (create, disable in one click, their
tokens) and the audit trail (filter, page, export, verify the chain).

Every change goes through the same service calls as the JSON routes in ``app.api.routes``
(``admin``, ``users``, ``audit``), with the same audit entries; the pages add no rules of their
own. A refused form is shown again, with what was typed and the reason in words.
"""

from __future__ import annotations

import json
from collections import deque
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from babel import Locale
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from app.api.deps import ServicesDep
from app.audit.log import AuditFilter
from app.audit.records import AuditVerification
from app.core.errors import InvalidInput, NotFound, VraagbaakError
from app.core.principal import Principal
from app.identity.tables import ROLES
from app.web.rendering import N_, locale_of, render
from app.web.session import FormUser, PageUser, with_role
from app.wiring import Services
from ingest.lexical import LANGUAGES

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
MAX_PAGE = 1000  # paging newest-first keeps page * PAGE_SIZE entries in memory
ACTIVE_JOB = ("queued", "running")

# ids the admin templates translate from data (roles, job states), listed for extraction
ADMIN_MESSAGES = (
    N_("agent"), N_("reviewer"), N_("evaluator"), N_("admin"),
    N_("queued"), N_("running"), N_("succeeded"), N_("failed"), N_("interrupted"),
)

Text = Annotated[str, Form(max_length=200)]
Names = Annotated[list[str] | None, Form()]


def _admin(user: Principal) -> Principal:
    return with_role(user, "admin")


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# -- collections -------------------------------------------------------------------------------

def _languages(request: Request) -> list[tuple[str, str]]:
    locale = locale_of(request)
    return [(code, Locale.parse(code).get_display_name(locale) or code)
            for code in sorted(LANGUAGES)]


def _collections_page(request: Request, services: Services, user: Principal, *,
                      status_code: int = 200, error: str = "",
                      form: dict[str, Any] | None = None) -> HTMLResponse:
    listed = services.collections.list(readable=services.access.readable(user))
    grants = services.access.all_grants()
    roots = services.settings.ingest.document_roots
    return render(request, "admin/collections.html", user=user, status_code=status_code,
                  collections=listed, grants=grants, roots=[str(r) for r in roots],
                  languages=_languages(request),
                  teams=[t.name for t in services.users.teams()], error=error,
                  form=form or {"language": "en", "teams": [], "everyone": False})


@router.get("/admin", response_class=HTMLResponse)
@router.get("/admin/collections", response_class=HTMLResponse)
def collections_page(request: Request, services: ServicesDep, user: PageUser) -> HTMLResponse:
    return _collections_page(request, services, _admin(user))


def _create_collection(services: Services, admin: Principal, root: int, folder: str, name: str,
                       language: str, embedding_model: str, everyone: bool,
                       teams: list[str]) -> None:
    roots = services.settings.ingest.document_roots
    if not roots:
        raise InvalidInput("creating collections here is disabled: no document roots are "
                           "configured (ingest.document_roots)", code="no_document_roots")
    if not 0 <= root < len(roots):
        raise InvalidInput("choose one of the document roots", code="invalid_folder")
    known = {t.name for t in services.users.teams()}
    missing = sorted(set(teams) - known)
    if missing:  # before anything is made, so a refused form leaves nothing behind
        raise NotFound(f"team '{missing[0]}' not found", code="team_not_found")
    coll = services.collections.create_under(roots, roots[root], folder, name, language,
                                             embedding_model.strip() or None)
    services.audit.record(admin.actor, "collection_created", name, folder=coll.root,
                          language=language, embedding_model=coll.embedder)
    if everyone or teams:
        before, after = services.access.set_grants(name, everyone=everyone, teams=teams)
        services.audit.record(admin.actor, "grants_changed", name,
                              before={k: before[k] for k in ("everyone", "teams")},
                              after={k: after[k] for k in ("everyone", "teams")})


@router.post("/admin/collections", response_model=None)
async def create_collection(request: Request, services: ServicesDep, user: FormUser,
                            name: Annotated[str, Form(max_length=64)],
                            folder: Annotated[str, Form(max_length=1000)] = "",
                            root: Annotated[int, Form()] = 0,
                            language: Annotated[str, Form(max_length=8)] = "en",
                            embedding_model: Annotated[str, Form(max_length=1000)] = "",
                            everyone: Annotated[bool, Form()] = False,
                            teams: Names = None) -> HTMLResponse | RedirectResponse:
    admin = _admin(user)
    try:
        await run_in_threadpool(_create_collection, services, admin, root, folder, name,
                                language, embedding_model, everyone, teams or [])
    except VraagbaakError as exc:
        form = {"root": root, "folder": folder, "name": name, "language": language,
                "embedding_model": embedding_model, "everyone": everyone,
                "teams": teams or []}
        return _collections_page(request, services, admin, status_code=exc.status,
                                 error=exc.message, form=form)
    return _see_other(f"/admin/collections/{name}")


@router.get("/admin/collections/{name}", response_class=HTMLResponse)
def collection_page(name: str, request: Request, services: ServicesDep,
                    user: PageUser) -> HTMLResponse:
    admin = _admin(user)
    coll = services.collections.get(name)  # 404 for an unknown collection
    summary = next(c for c in services.collections.list(readable={name}))
    return render(request, "admin/collection.html", user=admin, coll=summary,
                  folder=coll.root, embedder=coll.embedder, grants=services.access.grants(name),
                  teams=[t.name for t in services.users.teams()])


@router.post("/admin/collections/{name}/reindex")
async def reindex(name: str, services: ServicesDep, user: FormUser) -> RedirectResponse:
    admin = _admin(user)
    services.collections.get(name)  # 404 for an unknown collection
    job = await run_in_threadpool(services.jobs.start_reindex, name, actor=admin.actor)
    return _see_other(f"/admin/jobs/{job.id}")


def _set_grants(services: Services, admin: Principal, name: str, everyone: bool,
                teams: list[str]) -> None:
    before, after = services.access.set_grants(name, everyone=everyone, teams=teams)
    if before != after:
        services.audit.record(admin.actor, "grants_changed", name,
                              before={k: before[k] for k in ("everyone", "teams")},
                              after={k: after[k] for k in ("everyone", "teams")})


@router.post("/admin/collections/{name}/grants")
async def set_grants(name: str, services: ServicesDep, user: FormUser,
                     everyone: Annotated[bool, Form()] = False,
                     teams: Names = None) -> RedirectResponse:
    await run_in_threadpool(_set_grants, services, _admin(user), name, everyone, teams or [])
    return _see_other(f"/admin/collections/{name}?saved=1")


@router.get("/admin/jobs/{job_id}", response_class=HTMLResponse)
def job_page(job_id: str, request: Request, services: ServicesDep,
             user: PageUser) -> HTMLResponse:
    admin = _admin(user)
    job = services.jobs.get(job_id)
    return render(request, "admin/job.html", user=admin, job=job,
                  live=job.status in ACTIVE_JOB, scripts=["/static/admin.js"])


# -- users, teams and tokens -------------------------------------------------------------------

def _users_page(request: Request, services: Services, user: Principal, *,
                status_code: int = 200, error: str = "", team_error: str = "",
                form: dict[str, Any] | None = None) -> HTMLResponse:
    return render(request, "admin/users.html", user=user, status_code=status_code,
                  users=services.users.all(), teams=services.users.teams(), roles=ROLES,
                  error=error, team_error=team_error,
                  form=form or {"roles": ["agent"], "teams": []})


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, services: ServicesDep, user: PageUser) -> HTMLResponse:
    return _users_page(request, services, _admin(user))


def _create_user(services: Services, admin: Principal, username: str, roles: list[str],
                 teams: list[str], password: str | None, display_name: str) -> None:
    created = services.users.create(username, roles=roles, teams=teams, password=password,
                                    display_name=display_name)
    services.audit.record(admin.actor, "user_created", username, roles=created.roles,
                          teams=created.teams, sign_in=created.password_set)


@router.post("/admin/users", response_model=None)
async def create_user(request: Request, services: ServicesDep, user: FormUser,
                      username: Annotated[str, Form(max_length=64)],
                      display_name: Text = "",
                      password: Annotated[str, Form(max_length=1024)] = "",
                      roles: Names = None,
                      teams: Names = None) -> HTMLResponse | RedirectResponse:
    admin = _admin(user)
    try:
        await run_in_threadpool(_create_user, services, admin, username, roles or [],
                                teams or [], password or None, display_name)
    except VraagbaakError as exc:
        form = {"username": username, "display_name": display_name, "roles": roles or [],
                "teams": teams or []}
        return _users_page(request, services, admin, status_code=exc.status,
                           error=exc.message, form=form)
    return _see_other("/admin/users")


def _set_active(services: Services, admin: Principal, username: str, active: bool) -> None:
    """As ``PATCH /v1/admin/users/{username}`` with ``active``: disabling revokes every
    token of the user."""
    changed = services.users.update(username, active=active)
    if not active:
        services.identity.tokens.revoke_all(changed.id)
    services.audit.record(admin.actor, "user_changed", username, active=active,
                          credentials_reset=False)


@router.post("/admin/users/{username}/active")
async def set_active(username: str, services: ServicesDep, user: FormUser,
                     active: Annotated[bool, Form()],
                     back: Annotated[str, Form(max_length=200)] = "") -> RedirectResponse:
    await run_in_threadpool(_set_active, services, _admin(user), username, active)
    return _see_other(f"/admin/users/{quote(username, safe='')}" if back == "user"
                      else "/admin/users")


def _user_page(request: Request, services: Services, admin: Principal, username: str, *,
               status_code: int = 200, error: str = "", new_token: str = "") -> HTMLResponse:
    shown = services.users.get(username)
    return render(request, "admin/user.html", user=admin, status_code=status_code,
                  shown=shown, tokens=services.identity.tokens.list(shown.id), roles=ROLES,
                  teams=[t.name for t in services.users.teams()], error=error,
                  new_token=new_token)


@router.get("/admin/users/{username}", response_class=HTMLResponse)
def user_page(username: str, request: Request, services: ServicesDep,
              user: PageUser) -> HTMLResponse:
    return _user_page(request, services, _admin(user), username)


def _update_user(services: Services, admin: Principal, username: str, roles: list[str],
                 teams: list[str], display_name: str) -> None:
    services.users.update(username, roles=roles, teams=teams, display_name=display_name)
    services.audit.record(admin.actor, "user_changed", username, roles=roles, teams=teams,
                          display_name=display_name, credentials_reset=False)


@router.post("/admin/users/{username}", response_model=None)
async def update_user(username: str, request: Request, services: ServicesDep, user: FormUser,
                      display_name: Text = "", roles: Names = None,
                      teams: Names = None) -> HTMLResponse | RedirectResponse:
    admin = _admin(user)
    try:
        await run_in_threadpool(_update_user, services, admin, username, roles or [],
                                teams or [], display_name)
    except (InvalidInput, NotFound) as exc:
        services.users.get(username)  # an unknown user is a 404 page, not a form error
        return _user_page(request, services, admin, username, status_code=exc.status,
                          error=exc.message)
    return _see_other(f"/admin/users/{quote(username, safe='')}")


@router.post("/admin/users/{username}/tokens", response_class=HTMLResponse)
async def create_user_token(username: str, request: Request, services: ServicesDep,
                            user: FormUser, name: Annotated[str, Form(max_length=100)] = "",
                            ) -> HTMLResponse:
    admin = _admin(user)
    try:
        created = await run_in_threadpool(
            services.identity.create_token, admin, username, name=name,
            expires_days=services.settings.auth.token_days)
    except VraagbaakError as exc:
        services.users.get(username)
        return _user_page(request, services, admin, username, status_code=exc.status,
                          error=exc.message)
    return _user_page(request, services, admin, username, new_token=created.token)


@router.post("/admin/tokens/{token_id}/revoke")
async def revoke_token(token_id: str, services: ServicesDep, user: FormUser,
                       username: Annotated[str, Form(max_length=64)]) -> RedirectResponse:
    await run_in_threadpool(services.identity.revoke_token, _admin(user), token_id,
                            own_only=False)
    return _see_other(f"/admin/users/{quote(username, safe='')}")


def _create_team(services: Services, admin: Principal, name: str) -> None:
    services.users.create_team(name)
    services.audit.record(admin.actor, "team_created", name)


@router.post("/admin/teams", response_model=None)
async def create_team(request: Request, services: ServicesDep, user: FormUser,
                      name: Annotated[str, Form(max_length=64)],
                      ) -> HTMLResponse | RedirectResponse:
    admin = _admin(user)
    try:
        await run_in_threadpool(_create_team, services, admin, name)
    except VraagbaakError as exc:
        return _users_page(request, services, admin, status_code=exc.status,
                           team_error=exc.message)
    return _see_other("/admin/users#teams")


# -- audit trail -------------------------------------------------------------------------------

def _time(value: str, field: str) -> datetime | None:
    """A time from the filter form (``datetime-local``, read as UTC); None when empty."""
    if not value.strip():
        return None
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"'{field}' is not a time (use YYYY-MM-DD HH:MM)",
                           code="invalid_time") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _newest_first(services: Services, where: AuditFilter, page: int) -> tuple[list[Any], int]:
    """One page of entries, newest first, and how many match (the service reads oldest
    first: keep only the tail this page needs)."""
    tail: deque[dict[str, Any]] = deque(maxlen=page * PAGE_SIZE)
    total = 0
    for row in services.audit.entries(where):
        tail.append(row)
        total += 1
    newest = list(reversed(tail))[(page - 1) * PAGE_SIZE:]
    for row in newest:
        row["details_text"] = json.dumps(row["details"], ensure_ascii=False, sort_keys=True)
    return newest, total


def _audit_page(request: Request, services: Services, admin: Principal, actor: str,
                action: str, since: str, until: str, page: int,
                verification: AuditVerification | None = None) -> HTMLResponse:
    filters = {"actor": actor.strip(), "action": action.strip(), "since": since.strip(),
               "until": until.strip()}
    page = min(max(page, 1), MAX_PAGE)
    try:
        start, end = _time(since, "since"), _time(until, "until")
    except InvalidInput as exc:
        return render(request, "admin/audit.html", user=admin, status_code=exc.status,
                      error=exc.message, filters=filters, rows=[], total=0, page=1, pages=1,
                      verification=verification, links={})
    where = AuditFilter(actor=filters["actor"] or None, action=filters["action"] or None,
                        since=start, until=end)
    rows, total = _newest_first(services, where, page)
    pages = max(1, -(-total // PAGE_SIZE))
    kept = {k: v for k, v in filters.items() if v}
    api = {k: v for k, v in (("actor", where.actor), ("action", where.action),
                             ("since", start.isoformat() if start else None),
                             ("until", end.isoformat() if end else None)) if v}
    links = {
        "csv": "/v1/admin/audit?" + urlencode({**api, "format": "csv"}),
        "jsonl": "/v1/admin/audit?" + urlencode({**api, "format": "jsonl"}),
        "previous": "/admin/audit?" + urlencode({**kept, "page": page - 1}) if page > 1 else "",
        "next": "/admin/audit?" + urlencode({**kept, "page": page + 1})
        if page < min(pages, MAX_PAGE) else "",
        "verify": "/admin/audit/verify?" + urlencode(kept),
    }
    return render(request, "admin/audit.html", user=admin, filters=filters, rows=rows,
                  total=total, page=page, pages=pages, links=links,
                  verification=verification, error="")


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, services: ServicesDep, user: PageUser, actor: str = "",
               action: str = "", since: str = "", until: str = "",
               page: int = 1) -> HTMLResponse:
    return _audit_page(request, services, _admin(user), actor[:128], action[:64], since[:40],
                       until[:40], page)


@router.get("/admin/audit/verify", response_class=HTMLResponse)
def audit_verify(request: Request, services: ServicesDep, user: PageUser, actor: str = "",
                 action: str = "", since: str = "", until: str = "") -> HTMLResponse:
    """Recompute the hash chain (as ``GET /v1/admin/audit/verify``) and say what it found."""
    admin = _admin(user)
    return _audit_page(request, services, admin, actor[:128], action[:64], since[:40],
                       until[:40], 1, verification=services.audit.verify())
