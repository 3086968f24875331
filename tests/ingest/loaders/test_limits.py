"""What one file may yield: text, pages and heading lengths are capped, and a note says so."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.loaders import DocumentLoader, ParseLimits
from ingest.loaders.limits import MAX_HEADING_CHARS, cap_document
from ingest.sections import LoadedDocument, Section
from tests.ingest.hostile import too_much_text

MakePdf = Callable[..., Path]  # the conftest fixture's factory


@pytest.fixture
def capped() -> DocumentLoader:
    return DocumentLoader(ParseLimits(max_chars=2000, max_pages=2))


def test_text_past_the_limit_is_left_out_and_noted(capped: DocumentLoader,
                                                   tmp_path: Path) -> None:
    with capped as loader:
        document = loader.load(too_much_text(tmp_path / "long.txt", 1000))
    assert sum(len(s.text) for s in document.sections) == 2000
    assert document.sections[0].text.startswith("Paragraph 0 says")
    assert document.notes == ("text beyond the first 2,000 characters left out",)


def test_pages_past_the_limit_are_not_read_and_noted(capped: DocumentLoader,
                                                     make_pdf: MakePdf) -> None:
    path = make_pdf("manual.pdf", [f"Page {n} text." for n in range(1, 6)])
    with capped as loader:
        document = loader.load(path)
    assert [s.page for s in document.sections] == [1, 2]
    assert document.notes == ("only the first 2 of 5 pages indexed",)


def test_a_file_within_the_limits_has_no_note(capped: DocumentLoader, tmp_path: Path) -> None:
    with capped as loader:
        document = loader.load(too_much_text(tmp_path / "short.txt", 10))
    assert document.notes == ()


def test_headings_and_titles_are_cut_to_a_line() -> None:
    giant = "h" * 50_000
    document = cap_document(LoadedDocument(giant, [Section("body", (giant, "Sub"))]), 10_000)
    assert document.title == "h" * MAX_HEADING_CHARS
    assert document.sections[0].headings == ("h" * MAX_HEADING_CHARS, "Sub")
    assert document.notes == ()  # headings are cut silently; only left-out text is noted


def test_text_exactly_at_the_limit_is_whole() -> None:
    document = cap_document(LoadedDocument("t", [Section("a" * 10), Section("b" * 10)]), 20)
    assert [s.text for s in document.sections] == ["a" * 10, "b" * 10]
    assert document.notes == ()
    cut = cap_document(LoadedDocument("t", [Section("a" * 10), Section("b" * 10)]), 15)
    assert [s.text for s in cut.sections] == ["a" * 10, "b" * 5]
    assert cut.notes == ("text beyond the first 15 characters left out",)
