"""PDF loading with pypdf: one section per page with text, at most ``max_pages`` pages.

Runs inside the parse worker (``ingest.loaders.worker``) like every loader, so an encrypted,
truncated, cyclic or deeply nested PDF costs at most its time and memory limit. Pages are
extracted in order and extraction stops at the page limit or once the character limit is
reached, so a 50,000-page file costs the pages that are kept, not all of them. The document is
dated by the later of its metadata's ModDate and CreationDate (``ingest.dates``).
"""

from __future__ import annotations

import io
import logging
from datetime import datetime
from pathlib import Path

from pypdf import DocumentInformation, PasswordType, PdfReader

from ..dates import DocumentDate, latest, plausible
from ..sections import LoadedDocument, LoaderError, Section
from .limits import ParseLimits
from .structure import clean_inline, clean_text, first_short_line, readable_stem

_ENCRYPTED = {"FileNotDecryptedError", "DependencyError"}


def _date(metadata: DocumentInformation, field: str) -> datetime | None:
    """A metadata date; None when absent or malformed (pypdf raises on a bad ``D:`` string)."""
    try:
        at = getattr(metadata, field)
    except Exception:
        return None
    return plausible(at) if isinstance(at, datetime) else None


def _dated(metadata: DocumentInformation | None) -> DocumentDate | None:
    if metadata is None:
        return None
    return latest((("pdf:ModDate", _date(metadata, "modification_date")),
                   ("pdf:CreationDate", _date(metadata, "creation_date"))))


def _pages(data: bytes, limits: ParseLimits
           ) -> tuple[str | None, list[Section], tuple[str, ...], DocumentDate | None]:
    """Metadata title, the sections of the kept pages, a note if pages were left out, and
    the metadata date."""
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)  # damaged files make it chatty
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise LoaderError("encrypted PDF")
    title = None
    if reader.metadata is not None and reader.metadata.title:
        title = str(reader.metadata.title)
    total = len(reader.pages)
    sections: list[Section] = []
    chars = 0
    for number in range(1, min(total, limits.max_pages) + 1):
        if chars > limits.max_chars:  # the rest would be cut (and noted) by cap_document
            break
        if text := clean_text(reader.pages[number - 1].extract_text() or ""):
            sections.append(Section(text, (), number))
            chars += len(text)
    notes: tuple[str, ...] = ()
    if total > limits.max_pages:
        notes = (f"only the first {limits.max_pages:,} of {total:,} pages indexed",)
    return title, sections, notes, _dated(reader.metadata)


def load_pdf(data: bytes, path: Path, limits: ParseLimits) -> LoadedDocument:
    """Title from metadata, the first line of page 1, or the file name."""
    if b"%PDF-" not in data[:1024]:
        raise LoaderError("not a PDF file")
    try:
        title, sections, notes, dated = _pages(data, limits)
    except (LoaderError, MemoryError):
        raise
    except Exception as exc:  # pypdf raises many types for damaged files
        if type(exc).__name__ in _ENCRYPTED:
            raise LoaderError("encrypted PDF") from None
        raise LoaderError("corrupt or truncated PDF") from None
    if not sections:
        raise LoaderError("no extractable text (scanned PDF?)")
    title = clean_inline(title or "")
    if not title and sections[0].page == 1:
        title = first_short_line(sections[0].text) or ""
    return LoadedDocument(title or readable_stem(path), sections, notes, dated)
