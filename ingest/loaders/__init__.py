"""Document loaders: a file on disk in, a ``LoadedDocument`` (title + sections) out.

``DocumentLoader.load`` picks the loader by file suffix and guarantees one failure type: any
problem, whether an unsupported suffix, a damaged file, a parser bug or a file that exceeds its
time, memory or inflation limit, surfaces as ``LoaderError`` with a short reason that is safe to
show an admin (no server paths, no tracebacks). Every format is parsed in a reusable child
process under ``ParseLimits`` (``worker``); what comes back is already cut to the size limits
(``limits``), with ``LoadedDocument.notes`` saying what was left out.

This package's front end is light on purpose: the parent imports no parser library, and the
worker, which imports this package too, loads only the parser it needs.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType

from ..names import display_name
from ..reading import read_file
from ..sections import LoadedDocument, LoaderError, Section
from .limits import ParseLimits
from .parsing import KINDS
from .worker import ParseWorker

__all__ = [
    "SUPPORTED_SUFFIXES",
    "DocumentLoader",
    "LoadedDocument",
    "LoaderError",
    "ParseLimits",
    "Section",
]

SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(KINDS)


class DocumentLoader:
    """Loads supported files; owns the parse worker process, so close it (or use ``with``).
    Once ``stop`` is set, a load in flight kills its parse and raises ``Cancelled``."""

    def __init__(self, limits: ParseLimits | None = None, *,
                 stop: threading.Event | None = None) -> None:
        self._worker = ParseWorker(limits or ParseLimits(), stop=stop)

    @property
    def limits(self) -> ParseLimits:
        """The limits of each parse; may be changed between loads."""
        return self._worker.limits

    @limits.setter
    def limits(self, limits: ParseLimits) -> None:
        self._worker.limits = limits

    def load(self, path: Path, data: bytes | None = None) -> LoadedDocument:
        """Parse ``path`` (or ``data``, its bytes, when the caller read it already); raise
        ``LoaderError`` with an admin-safe reason if that fails."""
        suffix = path.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            raise LoaderError(
                f"unsupported file type '{display_name(suffix)}'"
                if suffix
                else "unsupported file type (no file extension)"
            )
        if data is None:
            data = read_file(path)
        if not data or data.isspace():
            raise LoaderError("no text found")
        return self._worker.parse(suffix, data, display_name(path.name))

    def close(self) -> None:
        self._worker.close()

    def __enter__(self) -> DocumentLoader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
