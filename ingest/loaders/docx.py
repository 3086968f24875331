"""DOCX loading with python-docx: heading styles become the heading path, tables become rows.

Word documents carry their structure in paragraph styles, so "Title" and "Heading 1".."Heading 9"
open sections (Title counts as the level above Heading 1). Paragraphs and tables are read in
body order, so a table lands in the section of the heading it sits under, as lines of
``cell | cell | cell``. The document is dated by its core properties (the later of modified and
created, ``ingest.dates``). The archive is checked against the inflation limits first
(``ingest.loaders.archives``): python-docx inflates every member into memory.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import docx
from docx.document import Document as DocxDocument
from docx.table import Table
from docx.text.paragraph import Paragraph

from ..dates import DocumentDate, latest, parse_date
from ..sections import LoadedDocument, LoaderError
from .archives import check_archive
from .limits import ParseLimits
from .structure import SectionBuilder, clean_inline, readable_stem

_HEADING_STYLE = re.compile(r"heading\s*([1-9])", re.IGNORECASE)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc, or an encrypted Office file
_TITLE_LEVEL = 0


def _heading_level(paragraph: Paragraph) -> int | None:
    style = paragraph.style
    name = (style.name or "") if style is not None else ""
    if name.lower() == "title":
        return _TITLE_LEVEL
    match = _HEADING_STYLE.fullmatch(name.strip())
    return int(match.group(1)) if match else None


def _is_list(paragraph: Paragraph) -> bool:
    style = paragraph.style
    return style is not None and (style.name or "").lower().startswith("list")


def _table_text(table: Table) -> str:
    """Rows as ``cell | cell``; a merged cell is reported once, not once per grid column."""
    lines = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:
                continue
            previous = cell._tc
            cells.append(clean_inline(cell.text))
        if any(cells):
            lines.append(" | ".join(cells))
    return "\n".join(lines)


def _dated(document: DocxDocument) -> DocumentDate | None:
    """python-docx reads a malformed W3CDTF value as None; a naive value is UTC (the format
    stores UTC with a ``Z``)."""
    props = document.core_properties
    return latest((("docx:modified", parse_date(props.modified)),
                   ("docx:created", parse_date(props.created))))


def load_docx(data: bytes, path: Path, limits: ParseLimits) -> LoadedDocument:
    if data.startswith(_OLE_MAGIC):
        raise LoaderError("not a DOCX file (legacy .doc format or password-protected?)")
    if not data.startswith(b"PK"):
        raise LoaderError("not a DOCX file")
    check_archive(data, kind="DOCX", max_inflated_bytes=limits.max_inflated_bytes,
                  max_compression_ratio=limits.max_compression_ratio)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception:
        raise LoaderError("corrupt or unreadable DOCX") from None
    builder = SectionBuilder()
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            builder.add(_table_text(block))
            continue
        level = _heading_level(block)
        if level is not None:
            builder.heading(level, block.text)
        else:
            builder.add(("- " if _is_list(block) else "") + block.text)
    sections = builder.finish()
    title = clean_inline(document.core_properties.title or "")
    title = title or builder.first_heading.get(_TITLE_LEVEL) or builder.first_any or ""
    return LoadedDocument(title or readable_stem(path), sections, dated=_dated(document))
