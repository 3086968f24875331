"""What runs inside the parse worker: one file's bytes in, a capped document or a reason out.

Every loader runs here, never in the process that called ``DocumentLoader.load``. The child
returns plain data only: a ``LoadedDocument`` already cut to the size limits, or a short reason
that is safe to show an admin; never a pickled exception with a traceback and a server path.
The loaders are imported on first use, so the parent process, which imports this module for
its table of formats, never pays for python-docx, lxml, markdown-it or pypdf.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..sections import LoadedDocument, LoaderError
from .limits import ParseLimits, cap_document

# suffix -> the format's name in skip reasons
KINDS = {
    ".pdf": "PDF",
    ".docx": "DOCX",
    ".html": "HTML",
    ".htm": "HTML",
    ".md": "Markdown",
    ".markdown": "Markdown",
    ".txt": "text",
}



@dataclass(frozen=True)
class Parsed:
    """The document, or why there is none; a MemoryError is a flag, since the parent words
    the reason with the limit it set."""

    document: LoadedDocument | None = None
    reason: str = ""
    out_of_memory: bool = False


def parse(suffix: str, data: bytes, name: str, limits: ParseLimits) -> Parsed:
    """Parse ``data`` as the format of ``suffix``; ``name`` (a display name) gives the title
    of a document that has none."""
    try:
        document = _load(suffix, data, Path(name), limits)
    except LoaderError as exc:
        return Parsed(reason=str(exc))
    except MemoryError:
        return Parsed(out_of_memory=True)
    except Exception as exc:  # a parser bug or an unforeseen malformation
        return Parsed(reason=f"could not parse {KINDS[suffix]} file ({type(exc).__name__})")
    if not document.sections:
        return Parsed(reason="no text found")
    return Parsed(cap_document(document, limits.max_chars))


def _load(suffix: str, data: bytes, path: Path, limits: ParseLimits) -> LoadedDocument:
    if suffix == ".pdf":
        from .pdf import load_pdf

        return load_pdf(data, path, limits)
    if suffix == ".docx":
        from .docx import load_docx

        return load_docx(data, path, limits)
    if suffix in (".html", ".htm"):
        from .html import load_html

        return load_html(data, path)
    if suffix in (".md", ".markdown"):
        from .markdown import load_markdown

        return load_markdown(data, path)
    from .text import load_text

    return load_text(data, path)
