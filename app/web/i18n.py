"""English and Dutch for the pages: message catalogs read by Babel, one Jinja environment per
locale, dates and numbers formatted in the reader's locale.

The catalogs are the ``.po`` files under ``locales/`` (the translators' format); they are
compiled in memory when the app starts, so ``make run`` needs no build step. A reader's locale
is their own choice (the ``vraagbaak_lang`` cookie set from the language switch), else the
best match of the browser's ``Accept-Language``, else English.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from babel import Locale
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LOCALES = ("en", "nl")
LANG_COOKIE = "vraagbaak_lang"
_DIR = Path(__file__).resolve().parent / "locales"


def translations(locale: str) -> NullTranslations:
    """Every catalog of ``locale`` merged: one ``.po`` per page group, so translators of one
    group never edit another's file."""
    merged: NullTranslations = NullTranslations()
    for po in sorted((_DIR / locale / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fp:
            catalog = read_po(fp, locale=locale)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        loaded = Translations(buffer)
        if isinstance(merged, Translations):
            merged.merge(loaded)
        else:
            merged = loaded
    return merged


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LOCALES:
        return cookie
    wanted = []
    for part in (accept_language or "").split(","):
        tag, _, q = part.strip().partition(";q=")
        try:
            wanted.append((float(q or 1), tag.strip().replace("-", "_")))
        except ValueError:
            continue
    for _, tag in sorted(wanted, reverse=True):
        match = Locale.negotiate([tag], list(LOCALES))
        if match is not None:
            return str(match.language)
    return "en"


def when(at: datetime | str | None, locale: str) -> str:
    """A time in the reader's locale (UTC, as stored)."""
    if at is None:
        return ""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return format_datetime(at, "medium", locale=locale)


def number(value: float | int | None, locale: str) -> str:
    return "" if value is None else format_decimal(value, locale=locale)
