"""Render a page: the template, the reader's locale, who is signed in, and the CSRF token
every form posts back. Jinja2 autoescapes every value, so document text (untrusted) is shown,
never interpreted."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.core.principal import Principal
from app.web.i18n import LANG_COOKIE, LOCALES, negotiate, number, translations, when

TEMPLATES = Path(__file__).resolve().parent / "templates"
CSRF_COOKIE = "vraagbaak_csrf"


def N_(message: str) -> str:
    """Marks a message id for the catalog that a template translates from a variable."""
    return message


# ids the templates translate from data (states, tones, reasons), listed so extraction sees them
DATA_MESSAGES = (
    N_("pending"), N_("in_review"), N_("approved"), N_("rejected"), N_("changes_requested"),
    N_("friendly"), N_("formal"), N_("neutral"), N_("apologetic"),
    N_("wrong_facts"), N_("missing_info"), N_("tone"), N_("outdated_source"),
    N_("should_not_answer"),
)


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str  # an English msgid, translated in the template
    role: str | None  # who sees it; None: everyone signed in


NAV = (NavItem("/ask", N_("Ask"), "agent"), NavItem("/drafts", N_("My drafts"), "agent"),
       NavItem("/review", N_("Review"), "reviewer"), NavItem("/admin", N_("Admin"), "admin"),
       NavItem("/eval", N_("Evaluation"), "evaluator"),
       NavItem("/knowledge", N_("Knowledge"), None),
       NavItem("/analytics", N_("Adoption"), "manager"),
       NavItem("/notifications", N_("Notifications"), None),
       NavItem("/account", N_("My account"), None))


def nav(user: Principal) -> list[NavItem]:
    return [item for item in NAV if item.role is None or user.has(item.role)]


@cache
def environment(locale: str) -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["when"] = lambda at: when(at, locale)
    env.filters["number"] = lambda value: number(value, locale)
    env.globals["locale"] = locale
    env.globals["locales"] = LOCALES
    env.globals["nav"] = nav
    return env


def locale_of(request: Request) -> str:
    return negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


def render(request: Request, template: str, *, user: Principal | None = None,
           status_code: int = 200, **context: Any) -> HTMLResponse:
    env = environment(locale_of(request))
    html = env.get_template(template).render(
        request=request, user=user, csrf_token=request.cookies.get(CSRF_COOKIE, ""),
        path=request.url.path, **context)
    return HTMLResponse(html, status_code=status_code,
                        headers={"Cache-Control": "no-store"})
