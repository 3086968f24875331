"""What a loader yields: a document's title and its sections, each with provenance.

A section is the smallest unit a loader can place exactly: a page of a PDF, the text under one
heading of a DOCX, HTML or Markdown file, or a whole plain-text file. Chunking never crosses a
section boundary, so every chunk can say where it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .dates import DocumentDate


@dataclass(frozen=True)
class Section:
    """A run of text with its place in the document.

    ``headings`` is the path from the top-level heading down to the one this text sits under
    (empty when the document has no headings); ``page`` is 1-based and set only for paged
    formats (PDF).
    """

    text: str
    headings: tuple[str, ...] = ()
    page: int | None = None

    @property
    def heading(self) -> str:
        """The heading path as one readable string, e.g. ``VPN > Error codes``."""
        return " > ".join(self.headings)


@dataclass(frozen=True)
class LoadedDocument:
    """A parsed file: its title (from metadata, the first heading or the file name).

    ``notes`` says what of the file was left out under a limit (pages, characters): the file
    is indexed in part, and the admin must be told which part. ``dated`` is the date the file
    itself states (``ingest.dates``); None when it states none, and the indexer falls back to
    the file's modification time.
    """

    title: str
    sections: list[Section] = field(default_factory=list)
    notes: tuple[str, ...] = ()
    dated: DocumentDate | None = None


class LoaderError(Exception):
    """A file could not be turned into text; the message is the reason recorded for the skip.

    Messages must be safe to show to an admin: they name the problem, never a server path.
    """
