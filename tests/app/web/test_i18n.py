"""Every message the pages show has its Dutch translation, and the locale is negotiated."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from app.web.i18n import negotiate, translations

WEB = Path(__file__).resolve().parents[3] / "app" / "web"
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def test_every_page_message_is_translated_to_dutch() -> None:
    dutch = translations("nl")
    ids = {m[2] for m in extract_from_dir(str(WEB), METHODS, keywords={"_": None, "N_": None},
                                          options_map=OPTIONS) if isinstance(m[2], str)}
    assert len(ids) > 50
    untranslated = sorted(i for i in ids if dutch.gettext(i) == i and i not in {
        "Document", "Ticket", "Teams", "ticket"})  # the same word in Dutch
    assert untranslated == []


def test_the_readers_choice_wins_then_the_browser_then_english() -> None:
    assert negotiate("nl", "en-GB,en;q=0.9") == "nl"
    assert negotiate(None, "nl-BE,nl;q=0.9,en;q=0.5") == "nl"
    assert negotiate(None, "de-DE,fr;q=0.8") == "en"
    assert negotiate("xx", None) == "en"
    assert negotiate(None, "en;q=bad,nl") == "nl"
