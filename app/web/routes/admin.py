"""The admin's collection pages: create one from a folder under the document roots, re-index
with a live progress bar, set who may read it. People are ``admin_people``, the audit trail
``admin_audit``; the helpers every admin page shares are here.

Every change goes through the same service calls as the JSON routes in ``app.api.routes``
(``admin``, ``users``, ``audit``), with the same audit entries; the pages add no rules of their
own. A refused form is shown again, with what was typed and the reason in words.
"""

from __future__ import annotations

from typing import Annotated, Any

from babel import Locale
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from app.api.deps import ServicesDep
from app.core.errors import InvalidInput, NotFound, VraagbaakError
from app.core.principal import Principal
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


def admin_only(user: Principal) -> Principal:
    return with_role(user, "admin")


def see_other(url: str) -> RedirectResponse:
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
    return _collections_page(request, services, admin_only(user))


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
    admin = admin_only(user)
    try:
        await run_in_threadpool(_create_collection, services, admin, root, folder, name,
                                language, embedding_model, everyone, teams or [])
    except VraagbaakError as exc:
        form = {"root": root, "folder": folder, "name": name, "language": language,
                "embedding_model": embedding_model, "everyone": everyone,
                "teams": teams or []}
        return _collections_page(request, services, admin, status_code=exc.status,
                                 error=exc.message, form=form)
    return see_other(f"/admin/collections/{name}")


@router.get("/admin/collections/{name}", response_class=HTMLResponse)
def collection_page(name: str, request: Request, services: ServicesDep,
                    user: PageUser) -> HTMLResponse:
    admin = admin_only(user)
    coll = services.collections.get(name)  # 404 for an unknown collection
    summary = next(c for c in services.collections.list(readable={name}))
    return render(request, "admin/collection.html", user=admin, coll=summary,
                  folder=coll.root, embedder=coll.embedder, grants=services.access.grants(name),
                  teams=[t.name for t in services.users.teams()],
                  flagged=services.collections.flagged(name),
                  owners=services.owners.of(name),
                  users=[u.username for u in services.users.all()],
                  jobs=services.jobs.recent(name, limit=10))


@router.post("/admin/collections/{name}/reindex")
async def reindex(name: str, services: ServicesDep, user: FormUser) -> RedirectResponse:
    admin = admin_only(user)
    services.collections.get(name)  # 404 for an unknown collection
    # a second click, or another admin's, while one runs: show that one rather than a 409 page
    running = await run_in_threadpool(services.jobs.active, name)
    if running is not None:
        return see_other(f"/admin/jobs/{running}")
    job = await run_in_threadpool(services.jobs.start_reindex, name, actor=admin.actor)
    return see_other(f"/admin/jobs/{job.id}")


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
    await run_in_threadpool(_set_grants, services, admin_only(user), name, everyone, teams or [])
    return see_other(f"/admin/collections/{name}?saved=1")


@router.get("/admin/jobs/{job_id}", response_class=HTMLResponse)
def job_page(job_id: str, request: Request, services: ServicesDep,
             user: PageUser) -> HTMLResponse:
    admin = admin_only(user)
    job = services.jobs.get(job_id)
    return render(request, "admin/job.html", user=admin, job=job,
                  live=job.status in ACTIVE_JOB, scripts=["/static/admin.js"])
