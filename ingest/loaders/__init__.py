"""Document loaders: a file on disk in, a ``LoadedDocument`` (title + sections) out.

``DocumentLoader.load`` picks the loader by file suffix and guarantees one failure type: any
problem, whether an unsupported suffix, a damaged file, a parser bug or a PDF that exceeds its
time or memory limit, surfaces as ``LoaderError`` with a short reason that is safe to show an
admin (no server paths, no tracebacks). PDFs are parsed in a reusable child process; the other
formats are parsed in-process.

This module imports only the light PDF front end eagerly: the PDF worker process imports this
package too, and it should not pay for (or be limited by) python-docx, lxml or markdown-it.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from ..sections import LoadedDocument, LoaderError, Section
from .pdf import PdfWorker, load_pdf

__all__ = [
    "SUPPORTED_SUFFIXES",
    "DocumentLoader",
    "LoadedDocument",
    "LoaderError",
    "Section",
]

SUPPORTED_SUFFIXES: tuple[str, ...] = (".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt")

_KIND = {
    ".pdf": "PDF",
    ".docx": "DOCX",
    ".html": "HTML",
    ".htm": "HTML",
    ".md": "Markdown",
    ".markdown": "Markdown",
    ".txt": "text",
}


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:  # str(exc) would name the path
        raise LoaderError(f"could not read file ({exc.strerror or 'I/O error'})") from None


class DocumentLoader:
    """Loads supported files; owns the PDF worker process, so close it (or use ``with``)."""

    def __init__(self, pdf_timeout_s: float = 30.0, pdf_memory_mb: int = 1024) -> None:
        if pdf_timeout_s <= 0 or pdf_memory_mb <= 0:
            raise ValueError("pdf_timeout_s and pdf_memory_mb must be positive")
        self._pdf = PdfWorker(pdf_timeout_s, pdf_memory_mb)

    @property
    def pdf_timeout_s(self) -> float:
        """Wall-clock limit for parsing one PDF; may be changed between loads."""
        return self._pdf.timeout_s

    @pdf_timeout_s.setter
    def pdf_timeout_s(self, seconds: float) -> None:
        if seconds <= 0:
            raise ValueError("pdf_timeout_s must be positive")
        self._pdf.timeout_s = seconds

    def load(self, path: Path) -> LoadedDocument:
        """Parse ``path``; raise ``LoaderError`` with an admin-safe reason if that fails."""
        suffix = path.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            raise LoaderError(
                f"unsupported file type '{suffix}'"
                if suffix
                else "unsupported file type (no file extension)"
            )
        try:
            document = self._dispatch(path, suffix)
        except LoaderError:
            raise
        except Exception as exc:  # a parser bug or an unforeseen malformation
            raise LoaderError(
                f"could not parse {_KIND[suffix]} file ({type(exc).__name__})"
            ) from None
        if not document.sections:
            raise LoaderError("no text found")
        return document

    def _dispatch(self, path: Path, suffix: str) -> LoadedDocument:
        if suffix == ".pdf":
            try:
                empty = path.stat().st_size == 0
            except OSError as exc:
                raise LoaderError(f"could not read file ({exc.strerror or 'I/O error'})") from None
            if empty:
                raise LoaderError("no text found")
            return load_pdf(path, self._pdf)
        data = _read(path)
        if not data.strip():
            raise LoaderError("no text found")
        if suffix == ".docx":
            from .docx import load_docx

            return load_docx(data, path)
        if suffix in (".html", ".htm"):
            from .html import load_html

            return load_html(data, path)
        if suffix in (".md", ".markdown"):
            from .markdown import load_markdown

            return load_markdown(data, path)
        from .text import load_text

        return load_text(data, path)

    def close(self) -> None:
        """Stop the PDF worker process, if one was started. Safe to call more than once."""
        self._pdf.close()

    def __enter__(self) -> DocumentLoader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
