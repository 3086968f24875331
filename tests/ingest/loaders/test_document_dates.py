"""Each loader dates its document from where its format says it (front matter, PDF metadata,
DOCX core properties, HTML meta tags), through the parse worker like every load; a file that
says nothing has no date here (the indexer then takes the file's time)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import docx
from pypdf import PdfReader, PdfWriter

from ingest.dates import DocumentDate
from ingest.loaders import DocumentLoader

MakePdf = Callable[..., Path]


def test_markdown_is_dated_by_its_front_matter(loader: DocumentLoader, tmp_path: Path) -> None:
    path = tmp_path / "vpn.md"
    path.write_text("---\ntitle: VPN guide\ndate: 2021-06-01\nupdated: 2023-02-01\n---\n"
                    "# VPN\n\nReconnect on the office network.\n")
    loaded = loader.load(path)
    assert loaded.title == "VPN guide"
    assert loaded.dated == DocumentDate(datetime(2023, 2, 1, tzinfo=UTC), "markdown:updated")
    # the front matter is not text of the document
    assert "2023" not in " ".join(s.text for s in loaded.sections)
    path.write_text("# VPN\n\nupdated: 2023-02-01 is body text, not front matter.\n")
    assert loader.load(path).dated is None


def test_pdf_is_dated_by_the_later_of_its_metadata_dates(loader: DocumentLoader,
                                                         make_pdf: MakePdf) -> None:
    made = make_pdf("handbook.pdf", ["The VPN gateway is vpn.example.org."])
    writer = PdfWriter(clone_from=PdfReader(made))
    writer.add_metadata({"/CreationDate": "D:20200101090000Z",
                         "/ModDate": "D:20240305101500+01'00'"})
    writer.write(made)
    assert loader.load(made).dated == DocumentDate(datetime(2024, 3, 5, 9, 15, tzinfo=UTC),
                                                   "pdf:ModDate")
    # a malformed ModDate is passed over for the CreationDate
    writer = PdfWriter(clone_from=PdfReader(made))
    writer.add_metadata({"/ModDate": "D:yesterday"})
    writer.write(made)
    assert loader.load(made).dated == DocumentDate(datetime(2020, 1, 1, 9, tzinfo=UTC),
                                                   "pdf:CreationDate")


def test_a_pdf_made_by_fpdf2_is_dated_by_its_creation_date(loader: DocumentLoader,
                                                           make_pdf: MakePdf) -> None:
    made = make_pdf("printers.pdf", ["Printers are on the third floor."])
    dated = loader.load(made).dated
    assert dated is not None and dated.source == "pdf:CreationDate"
    assert abs((dated.at - datetime.now(UTC)).total_seconds()) < 600


def test_docx_is_dated_by_its_core_properties(loader: DocumentLoader, tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("Printers", level=1)
    document.add_paragraph("Printer error P-203 means a paper jam in tray 2.")
    document.core_properties.created = datetime(2019, 5, 1, 8, 0)
    document.core_properties.modified = datetime(2022, 11, 30, 16, 45)
    buffer = io.BytesIO()
    document.save(buffer)
    path = tmp_path / "printers.docx"
    path.write_bytes(buffer.getvalue())
    assert loader.load(path).dated == DocumentDate(datetime(2022, 11, 30, 16, 45, tzinfo=UTC),
                                                   "docx:modified")


def test_html_is_dated_by_its_meta_tags(loader: DocumentLoader, tmp_path: Path) -> None:
    path = tmp_path / "mail.html"
    path.write_text(
        "<html><head><title>Mail limits</title>"
        '<meta property="article:published_time" content="2021-01-01T00:00:00Z">'
        '<meta name="DCTERMS.modified" content="2023-08-09">'
        '<meta name="date" content="not a date">'
        '<meta name="description" content="2030-01-01">'
        "</head><body><main><p>The mailbox size limit is 50 GB.</p></main></body></html>")
    assert loader.load(path).dated == DocumentDate(datetime(2023, 8, 9, tzinfo=UTC),
                                                   "html:dcterms.modified")
    path.write_text("<html><body><p>No dates at all.</p></body></html>")
    assert loader.load(path).dated is None


def test_plain_text_states_no_date(loader: DocumentLoader, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("date: 2024-01-01\n\nPlain text has no front matter.\n")
    assert loader.load(path).dated is None
