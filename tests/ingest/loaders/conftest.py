"""Fixtures for the loader tests: a shared loader that is always closed, and fixture-file
factories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fpdf import FPDF

from ingest.loaders import DocumentLoader

MakePdf = Callable[..., Path]


@pytest.fixture(scope="session")
def loader() -> Iterator[DocumentLoader]:
    """One loader (and parse worker) for the whole session: a load has no state to leak."""
    with DocumentLoader() as document_loader:
        yield document_loader


@pytest.fixture
def make_pdf(tmp_path: Path) -> MakePdf:
    """Write a PDF with one page per string in ``pages`` (an empty string: a page without text)."""

    def make(name: str, pages: list[str], title: str | None = None, size: int = 12) -> Path:
        pdf = FPDF()
        pdf.set_font("Helvetica", size=size)
        if title is not None:
            pdf.set_title(title)
        for text in pages:
            pdf.add_page()
            if text:
                pdf.multi_cell(0, 10, text)
            else:  # a "scanned" page: graphics, no text layer
                pdf.rect(20, 20, 100, 150, style="F")
        path = tmp_path / name
        pdf.output(str(path))
        return path

    return make
