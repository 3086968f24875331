"""Plain-text loader and the shared text decoding rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import DocumentLoader, LoadedDocument, LoaderError
from ingest.loaders.textfile import decode_text
from tests.ingest.hostile import random_high_bytes


def _load(loader: DocumentLoader, tmp_path: Path, data: bytes,
          name: str = "notes.txt") -> LoadedDocument:
    path = tmp_path / name
    path.write_bytes(data)
    return loader.load(path)


def test_whole_text_one_section_with_clean_whitespace(loader: DocumentLoader,
                                                      tmp_path: Path) -> None:
    data = b"Meeting rooms\r\n\r\n\r\nRoom   A\thas a beamer.  \r\nRoom B has none.\r\n\r\n\r\n"
    document = _load(loader, tmp_path, data)
    assert document.title == "Meeting rooms"
    assert [(s.headings, s.page, s.text) for s in document.sections] == [
        ((), None, "Meeting rooms\n\nRoom A has a beamer.\nRoom B has none."),
    ]


def test_underlined_headings(loader: DocumentLoader, tmp_path: Path) -> None:
    data = b"Guide\n=====\nWelcome.\n\nSetup\n-----\nInstall it.\n\nStep two.\n\n---\nafter rule\n"
    document = _load(loader, tmp_path, data)
    assert document.title == "Guide"
    assert [(s.headings, s.text) for s in document.sections] == [
        (("Guide",), "Welcome."),
        (("Guide", "Setup"), "Install it.\n\nStep two.\n\n---\nafter rule"),
    ]


def test_long_first_line_gives_file_name_title(loader: DocumentLoader, tmp_path: Path) -> None:
    document = _load(loader, tmp_path, b"x" * 150 + b"\nmore", name="it_faq.txt")
    assert document.title == "it faq"


def test_utf16_with_bom(loader: DocumentLoader, tmp_path: Path) -> None:
    document = _load(loader, tmp_path, "Zoë’s notes\r\nLine two".encode("utf-16"))
    assert document.sections[0].text == "Zoë’s notes\nLine two"


def test_decode_text_rules() -> None:
    assert decode_text(b"\xef\xbb\xbfa\r\nb\rc") == "a\nb\nc"
    assert decode_text("één".encode()) == "één"
    assert decode_text("één €".encode("cp1252")) == "één €"
    assert decode_text(b"form\x0cfeed\ttab") == "form\x0cfeed\ttab"
    with pytest.raises(LoaderError, match=r"^binary content, not text$"):
        decode_text(b"text\x00more")


@pytest.mark.parametrize("data", [b"", b"\n\n   \n", b"\x00\x01\x02binary"])
def test_text_without_content(loader: DocumentLoader, tmp_path: Path, data: bytes) -> None:
    with pytest.raises(LoaderError, match=r"^(no text found|binary content, not text)$"):
        _load(loader, tmp_path, data)


def test_random_high_bytes_named_md_are_binary(loader: DocumentLoader, tmp_path: Path) -> None:
    path = random_high_bytes(tmp_path / "notes.md")  # no NUL, no control byte at all
    with pytest.raises(LoaderError, match=r"^binary content, not text$"):
        loader.load(path)


def test_legacy_and_damaged_text_still_decodes() -> None:
    dutch = ("Het wachtwoord van het gastnetwerk verandert elke maandag; vraag het aan de "
             "receptie. Prijs: € 3, café open tot één uur.\n") * 20
    assert decode_text(dutch.encode("cp1252")) == dutch  # a few % of high bytes: cp1252
    japanese = "ネットワークの設定を確認してください。" * 20
    damaged = japanese.encode()[:30] + b"\xff" + japanese.encode()[30:]
    assert decode_text(damaged) == japanese[:10] + "\ufffd" + japanese[10:]  # not mojibake
    russian = "Пароль гостевой сети меняется каждый понедельник." * 4
    with pytest.raises(LoaderError, match=r"^binary content, not text$"):
        decode_text(russian.encode("cp1251"))  # cp1252 would only make it unreadable
