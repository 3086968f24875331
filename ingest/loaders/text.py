"""Plain-text loading: the whole file as text, cut at underlined headings if it has any.

Plain text has no markup, but README-style files often underline their headings
("Title" over "=====" for level 1, "-----" for level 2). Those, when they start a paragraph,
become the heading path; everything else is kept as paragraphs separated by blank lines.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..sections import LoadedDocument
from .structure import SectionBuilder, first_short_line, readable_stem
from .textfile import decode_text

_UNDERLINE = re.compile(r"[ \t]*(={3,}|-{3,})[ \t]*")


def load_text(data: bytes, path: Path) -> LoadedDocument:
    text = decode_text(data)
    lines = text.split("\n")
    builder = SectionBuilder()
    paragraph: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        following = lines[index + 1] if index + 1 < len(lines) else ""
        underline = _UNDERLINE.fullmatch(following)
        is_heading = underline is not None and not paragraph and line.strip()
        if is_heading and underline is not None and _UNDERLINE.fullmatch(line) is None:
            builder.heading(1 if underline.group(1)[0] == "=" else 2, line)
            index += 2
            continue
        if line.strip():
            paragraph.append(line)
        else:
            builder.add("\n".join(paragraph))
            paragraph = []
        index += 1
    builder.add("\n".join(paragraph))
    return LoadedDocument(first_short_line(text) or readable_stem(path), builder.finish())
