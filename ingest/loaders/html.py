"""HTML loading with BeautifulSoup (lxml): the page's content, not its navigation and chrome.

Intranet pages wrap a little content in a lot of menus, banners and scripts. Those are removed,
the content root is chosen (<main>, a single <article>, [role=main], else <body>), and its blocks
are walked in order: h1-h6 maintain the heading path, every other block (p, li, pre, table rows,
blockquote, dd/dt, and loose text in divs) becomes a paragraph of the current section. The page
is dated by the latest of its date-like ``<meta>`` tags (``ingest.dates.HTML_META_NAMES``, by
name, property, itemprop or http-equiv).
"""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup
from bs4.dammit import EncodingDetector
from bs4.element import NavigableString, Tag

from ..dates import HTML_META_NAMES, DocumentDate, latest, parse_date
from ..sections import LoadedDocument, Section
from .structure import SectionBuilder, clean_inline, readable_stem
from .textfile import decode_with

_REMOVE = ["script", "style", "noscript", "template", "svg", "nav", "aside", "form", "iframe"]
_CHROME = ["header", "footer"]  # page chrome, unless it is an article's own header/footer
_NAV_ROLES = ["navigation", "banner", "contentinfo", "search"]
_WHITESPACE = re.compile(r"\s+")
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_BLOCKS = frozenset(
    {
        "address",
        "article",
        "blockquote",
        "body",
        "caption",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "header",
        "hr",
        "li",
        "main",
        "ol",
        "p",
        "section",
        "summary",
        "ul",
    }
)


class _Walker:
    """Depth-first walk that buffers inline text and emits it at each block boundary."""

    def __init__(self) -> None:
        self.builder = SectionBuilder()
        self._buffer: list[str] = []
        self._prefix = ""

    def run(self, root: Tag) -> list[Section]:
        self.walk(root)
        self._flush()
        return self.builder.finish()

    def walk(self, node: Tag) -> None:
        for child in node.children:
            if isinstance(child, Tag):
                self._element(child)
            elif type(child) is NavigableString:  # not comments, doctypes or CDATA
                self._buffer.append(_WHITESPACE.sub(" ", child))

    def _element(self, tag: Tag) -> None:
        name = tag.name
        if name in _HEADINGS:
            self._flush()
            self.builder.heading(_HEADINGS[name], tag.get_text(" "))
        elif name == "table":
            self._flush()
            self.builder.add(_table_text(tag))
        elif name == "pre":
            self._flush()
            self.builder.add(tag.get_text())
        elif name == "br":
            self._buffer.append("\n")
        elif name in _BLOCKS:
            self._flush()
            if name == "li":
                self._prefix = "- "
            self.walk(tag)
            self._flush()
            self._prefix = ""  # an empty <li> must not mark the next paragraph
        else:  # inline element: its text joins the current paragraph
            self.walk(tag)

    def _flush(self) -> None:
        text = "\n".join(line.strip() for line in "".join(self._buffer).split("\n"))
        self._buffer = []
        if text.strip():
            self.builder.add(self._prefix + text.strip())
            self._prefix = ""


def _table_text(table: Tag) -> str:
    """This table's own rows (nested tables are flattened into their cell) as ``a | b``."""
    lines = []
    for row in table.find_all("tr"):
        if row.find_parent("table") is not table:
            continue
        cells = [
            clean_inline(cell.get_text(" "))
            for cell in row.find_all(["td", "th"])
            if cell.find_parent("tr") is row
        ]
        if any(cells):
            lines.append(" | ".join(cells))
    return "\n".join(lines)


def _content_root(soup: BeautifulSoup) -> Tag:
    articles = soup.find_all("article")
    for candidate in (
        soup.find("main"),
        articles[0] if len(articles) == 1 else None,
        soup.find(role="main"),
        soup.body,
    ):
        if isinstance(candidate, Tag):
            return candidate
    return soup


def _dated(soup: BeautifulSoup) -> DocumentDate | None:
    found: list[tuple[str, object]] = []
    for meta in soup.find_all("meta"):
        for attribute in ("name", "property", "itemprop", "http-equiv"):
            key = meta.get(attribute)
            if isinstance(key, str) and key.strip().lower() in HTML_META_NAMES:
                found.append((f"html:{key.strip().lower()}", meta.get("content")))
                break
    return latest((source, parse_date(value)) for source, value in found)


def load_html(data: bytes, path: Path) -> LoadedDocument:
    text = decode_with(data, EncodingDetector.find_declared_encoding(data, is_html=True))
    soup = BeautifulSoup(text, "lxml")
    title = clean_inline(soup.title.get_text(" ")) if soup.title is not None else ""
    dated = _dated(soup)
    doomed = soup.find_all(_REMOVE) + soup.find_all(role=_NAV_ROLES)
    doomed += [tag for tag in soup.find_all(_CHROME) if not tag.find_parent(["article", "main"])]
    for tag in doomed:
        if not tag.decomposed:
            tag.decompose()
    walker = _Walker()
    sections = walker.run(_content_root(soup))
    title = title or walker.builder.first_heading.get(1) or ""
    return LoadedDocument(title or readable_stem(path), sections, dated=dated)
