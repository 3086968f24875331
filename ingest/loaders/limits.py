"""The limits every parse runs under, and the cap on what one file may yield.

A parser sees hostile input: a file may loop, allocate gigabytes, inflate from kilobytes to
gigabytes (a zip bomb), or be legitimately enormous (a 50,000-page PDF). Time and memory are
enforced around the parse (``ingest.loaders.worker``); the sizes are enforced inside it, so that
neither the parser nor the result sent back to the parent can grow with the input.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from ..sections import LoadedDocument, Section

# Headings and titles are repeated on every chunk and in every prompt: a one-line "heading" of
# megabytes must not ride along with each of them.
MAX_HEADING_CHARS = 200


@dataclass(frozen=True)
class ParseLimits:
    """Limits of one file's parse (``app.core.settings.IngestSettings`` documents each)."""

    timeout_s: float = 30.0
    memory_mb: int = 1024
    max_chars: int = 3_000_000
    max_pages: int = 2000
    max_inflated_bytes: int = 200_000_000
    max_compression_ratio: float = 200.0

    def __post_init__(self) -> None:
        for limit in fields(self):
            if not getattr(self, limit.name) > 0:
                raise ValueError(f"{limit.name} must be positive")


def cap_document(document: LoadedDocument, max_chars: int) -> LoadedDocument:
    """``document`` with at most ``max_chars`` of section text (later text is dropped and a
    note says so) and headings and title cut to ``MAX_HEADING_CHARS``."""
    sections: list[Section] = []
    room = max_chars
    cut = False
    for section in document.sections:
        if room <= 0:
            cut = True
            break
        text = section.text[:room]
        cut = len(text) < len(section.text)
        sections.append(Section(text, tuple(h[:MAX_HEADING_CHARS] for h in section.headings),
                                section.page))
        room -= len(text)
    notes = document.notes
    if cut:
        notes += (f"text beyond the first {max_chars:,} characters left out",)
    return replace(document, title=document.title[:MAX_HEADING_CHARS], sections=sections,
                   notes=notes)
