"""Markdown loading from markdown-it-py tokens (CommonMark plus tables), not from regexes.

Working from the token stream means a ``# comment`` inside a code fence stays code, setext
headings count as headings, and inline markup is reduced to its text (link text kept, URLs
dropped). A YAML front-matter block is cut off first; its ``title:`` names the document and
its ``last_reviewed:``, ``updated:`` or ``date:`` dates it (``ingest.dates``).
"""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup
from markdown_it import MarkdownIt
from markdown_it.token import Token

from ..dates import front_matter_date
from ..sections import LoadedDocument
from .structure import SectionBuilder, clean_inline, readable_stem
from .textfile import decode_text

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)^(?:---|\.\.\.)[ \t]*$\n?", re.DOTALL | re.MULTILINE)
_TITLE_FIELD = re.compile(r"^title:[ \t]*(.+?)[ \t]*$", re.MULTILINE)


def split_front_matter(text: str) -> tuple[str | None, str]:
    """Return (front-matter title or None, the Markdown body without the front matter)."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return None, text
    field = _TITLE_FIELD.search(match.group(1))
    title = clean_inline(field.group(1).strip("'\"")) if field else None
    return title or None, text[match.end() :]


def _inline_text(token: Token) -> str:
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline", "image"):
            parts.append(child.content)  # an image's content is its alt text
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
    return "".join(parts)


def _sections(body: str) -> SectionBuilder:
    builder = SectionBuilder()
    heading_level = 0
    marker = ""  # "- " or "3. " before the first paragraph of a list item
    row: list[str] | None = None
    rows: list[str] = []
    for token in MarkdownIt("commonmark").enable("table").parse(body):
        kind = token.type
        if kind == "heading_open":
            heading_level = int(token.tag[1:])
        elif kind == "heading_close":
            heading_level = 0
        elif kind == "list_item_open":
            marker = f"{token.info}. " if token.info else "- "
        elif kind == "list_item_close":
            marker = ""
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            rows.append(" | ".join(row))
            row = None
        elif kind == "table_close":
            builder.add("\n".join(rows))
            rows = []
        elif kind in ("fence", "code_block"):
            builder.add(token.content)
        elif kind == "html_block":
            builder.add(BeautifulSoup(token.content, "lxml").get_text(" "))
        elif kind == "inline":
            text = _inline_text(token)
            if heading_level:
                builder.heading(heading_level, text)
            elif row is not None:
                row.append(clean_inline(text))
            else:
                builder.add(marker + text)
                marker = ""
    return builder


def load_markdown(data: bytes, path: Path) -> LoadedDocument:
    text = decode_text(data)
    title, body = split_front_matter(text)
    match = _FRONT_MATTER.match(text)
    builder = _sections(body)
    sections = builder.finish()
    return LoadedDocument(title or builder.first_heading.get(1) or readable_stem(path), sections,
                          dated=front_matter_date(match.group(1)) if match else None)
