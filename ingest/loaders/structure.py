"""Shared helpers for the structured loaders: whitespace cleaning and heading-path sections.

Every loader that knows about headings (DOCX, HTML, Markdown, plain text) walks its document in
order and feeds headings and text blocks to a ``SectionBuilder``. Keeping the heading-path rules
and the whitespace rules in one place means all formats produce sections that look the same to
the chunker: paragraphs separated by one blank line, no empty sections.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..sections import Section

_SPACES = re.compile(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
# control characters, and lone surrogates (a declared "unicode_escape" charset, a PDF string)
# that no UTF-8 encoder downstream (SQL, JSON, hashing) would accept
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ud800-\udfff]")
_BLANK_RUNS = re.compile(r"\n{3,}")
_ANY_SPACE = re.compile(r"\s+")

MAX_TITLE_CHARS = 100


def clean_text(text: str) -> str:
    """Collapse spaces within lines, keep paragraph breaks as one blank line, strip."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def clean_inline(text: str) -> str:
    """Text that must fit on one line (headings, cells, titles): any whitespace -> one space."""
    return _ANY_SPACE.sub(" ", _CONTROL.sub("", text)).strip()


def readable_stem(path: Path) -> str:
    """A file name made presentable as a title: ``vpn_setup-guide.pdf`` -> ``vpn setup guide``."""
    stem = clean_inline(re.sub(r"[_\-.]+", " ", path.stem))
    return stem or path.name


def first_short_line(text: str) -> str | None:
    """The first non-empty line of ``text`` if it is short enough to serve as a title."""
    for line in text.split("\n"):
        line = clean_inline(line)
        if line:
            return line if len(line) < MAX_TITLE_CHARS else None
    return None


class SectionBuilder:
    """Collects text blocks under the current heading path and cuts a section at each heading.

    A heading at ``level`` replaces any open heading at the same or a deeper level, so an H2
    after ``(H1, H2a)`` gives ``(H1, H2b)``. Text before the first heading gets an empty path.
    """

    def __init__(self) -> None:
        self._path: list[tuple[int, str]] = []
        self._blocks: list[str] = []
        self._sections: list[Section] = []
        self.first_heading: dict[int, str] = {}  # level -> first heading text at that level
        self.first_any: str | None = None  # the first heading of any level

    @property
    def headings(self) -> tuple[str, ...]:
        return tuple(text for _, text in self._path)

    def heading(self, level: int, text: str) -> None:
        text = clean_inline(text)
        if not text:
            return
        self._flush()
        while self._path and self._path[-1][0] >= level:
            self._path.pop()
        self._path.append((level, text))
        self.first_heading.setdefault(level, text)
        if self.first_any is None:
            self.first_any = text

    def add(self, text: str) -> None:
        text = clean_text(text)
        if text:
            self._blocks.append(text)

    def finish(self) -> list[Section]:
        self._flush()
        return self._sections

    def _flush(self) -> None:
        if self._blocks:
            self._sections.append(Section("\n\n".join(self._blocks), self.headings))
            self._blocks = []
