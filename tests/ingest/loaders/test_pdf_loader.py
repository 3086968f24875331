"""PDF loader: pages, titles, damaged and encrypted files, and the worker's time limit."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from ingest.loaders import DocumentLoader, LoaderError, ParseLimits

MakePdf = Callable[..., Path]  # the conftest fixture's factory

FACTS = [
    "Onboarding handbook\nThe VPN gateway is vpn.example.org.",
    "Printers are on the third floor.",
    "Expense claims are due by the 5th of each month.",
]


@pytest.fixture(scope="module")
def pdf_loader() -> Iterator[DocumentLoader]:
    """One loader (one worker process) shared by the module, as ingest shares it across files."""
    with DocumentLoader() as document_loader:
        yield document_loader


def _error(loader: DocumentLoader, path: Path) -> str:
    with pytest.raises(LoaderError) as info:
        loader.load(path)
    message = str(info.value)
    assert str(path.parent) not in message and path.name not in message
    return message


def test_one_section_per_page_with_page_numbers(pdf_loader: DocumentLoader,
                                                make_pdf: MakePdf) -> None:
    document = pdf_loader.load(make_pdf("handbook.pdf", FACTS))
    assert [section.page for section in document.sections] == [1, 2, 3]
    assert "vpn.example.org" in document.sections[0].text
    assert "third floor" in document.sections[1].text
    assert "5th of each month" in document.sections[2].text
    assert all(section.headings == () for section in document.sections)


def test_title_from_metadata_first_line_or_file_name(pdf_loader: DocumentLoader,
                                                     make_pdf: MakePdf) -> None:
    with_meta = make_pdf("a.pdf", FACTS, title="Employee Handbook 2025")
    assert pdf_loader.load(with_meta).title == "Employee Handbook 2025"
    assert pdf_loader.load(make_pdf("b.pdf", FACTS)).title == "Onboarding handbook"
    long_first_line = "Travel " * 20  # 140 characters, on one line at 5 pt
    untitled = pdf_loader.load(make_pdf("travel_policy-v2.pdf", [long_first_line], size=5))
    assert untitled.sections[0].text == long_first_line.strip()
    assert untitled.title == "travel policy v2"


def test_pages_without_text_are_dropped(pdf_loader: DocumentLoader, make_pdf: MakePdf) -> None:
    document = pdf_loader.load(make_pdf("mixed.pdf", ["First page text.", "", "Third page."]))
    assert [section.page for section in document.sections] == [1, 3]


def test_scanned_pdf_without_text_layer(pdf_loader: DocumentLoader, make_pdf: MakePdf) -> None:
    message = _error(pdf_loader, make_pdf("scan.pdf", ["", ""]))
    assert message == "no extractable text (scanned PDF?)"


def _encrypt(source: Path, target: Path, user: str, owner: str | None = None) -> Path:
    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user, owner)
    with target.open("wb") as handle:
        writer.write(handle)
    return target


def test_encrypted_pdf_is_rejected(pdf_loader: DocumentLoader, make_pdf: MakePdf,
                                   tmp_path: Path) -> None:
    locked = _encrypt(make_pdf("plain.pdf", FACTS), tmp_path / "locked.pdf", "secret")
    assert _error(pdf_loader, locked) == "encrypted PDF"


def test_pdf_with_empty_user_password_opens(
    pdf_loader: DocumentLoader, make_pdf: MakePdf, tmp_path: Path
) -> None:
    source = make_pdf("plain.pdf", FACTS)
    restricted = _encrypt(source, tmp_path / "restricted.pdf", "", owner="owner-secret")
    document = pdf_loader.load(restricted)
    assert [section.page for section in document.sections] == [1, 2, 3]


def test_truncated_pdf(pdf_loader: DocumentLoader, make_pdf: MakePdf, tmp_path: Path) -> None:
    data = make_pdf("whole.pdf", FACTS).read_bytes()
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(data[: len(data) // 2])
    assert _error(pdf_loader, truncated) == "corrupt or truncated PDF"


def test_random_bytes_named_pdf(pdf_loader: DocumentLoader, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(os.urandom(4096))
    assert _error(pdf_loader, junk) == "not a PDF file"


def test_pdf_header_with_garbage_body(pdf_loader: DocumentLoader, tmp_path: Path) -> None:
    junk = tmp_path / "garbage.pdf"
    junk.write_bytes(b"%PDF-1.7\n" + os.urandom(4096))
    assert _error(pdf_loader, junk) == "corrupt or truncated PDF"


def test_empty_and_missing_pdf(pdf_loader: DocumentLoader, tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    assert _error(pdf_loader, empty) == "no text found"
    assert _error(pdf_loader, tmp_path / "missing.pdf").startswith("could not read file")


def test_timeout_kills_worker_and_pool_recovers(make_pdf: MakePdf) -> None:
    path = make_pdf("slow.pdf", FACTS)
    before = {child.pid for child in multiprocessing.active_children()}
    with DocumentLoader(ParseLimits(timeout_s=0.001)) as loader:
        message = _error(loader, path)
        assert message == "PDF parsing took longer than 0.001s"
        # The stuck worker was killed, not left running.
        assert {child.pid for child in multiprocessing.active_children()} <= before
        loader.limits = replace(loader.limits, timeout_s=30.0)
        assert [section.page for section in loader.load(path).sections] == [1, 2, 3]
        assert len(loader.load(path).sections) == 3  # and the new worker is reused
    assert {child.pid for child in multiprocessing.active_children()} <= before


def test_worker_that_died_between_pdfs_is_replaced(make_pdf: MakePdf) -> None:
    path = make_pdf("ok.pdf", FACTS)
    before = {child.pid for child in multiprocessing.active_children()}
    with DocumentLoader() as loader:
        loader.load(path)
        (worker,) = [c for c in multiprocessing.active_children() if c.pid not in before]
        worker.kill()
        worker.join()
        time.sleep(0.2)  # let the pool notice its worker is gone
        assert [section.page for section in loader.load(path).sections] == [1, 2, 3]


def test_memory_limit_is_enforced_in_the_worker(make_pdf: MakePdf) -> None:
    path = make_pdf("big.pdf", FACTS)
    with DocumentLoader(ParseLimits(memory_mb=32)) as loader:
        message = _error(loader, path)
    assert "memory limit of 32 MiB" in message
