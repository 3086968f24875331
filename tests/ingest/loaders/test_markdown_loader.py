"""Markdown loader: front matter, nested headings, code fences, tables, inline markup."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import DocumentLoader, LoadedDocument, LoaderError

GUIDE = """---
title: "Backup guide"
owner: it-ops
---
Intro paragraph with a [link to the wiki](https://wiki.example.org) and *emphasis*.

# Backups

Nightly backups run at **02:00**.

## Restore

1. Open the `restore` tool
2. Pick a date

```bash
# not a heading
restore --latest
```

### Limits

| Item | Limit |
|------|-------|
| Files | 30 days |

## Retention
Backups are kept
for a year.

Setext heading
==============

- top
  - nested ![diagram](d.png)
"""


def _load(loader: DocumentLoader, tmp_path: Path, text: str,
          name: str = "guide.md") -> LoadedDocument:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return loader.load(path)


def test_sections_follow_heading_path(loader: DocumentLoader, tmp_path: Path) -> None:
    document = _load(loader, tmp_path, GUIDE)
    assert document.title == "Backup guide"
    sections = {section.headings: section.text for section in document.sections}
    assert sections == {
        (): "Intro paragraph with a link to the wiki and emphasis.",
        ("Backups",): "Nightly backups run at 02:00.",
        ("Backups", "Restore"): (
            "1. Open the restore tool\n\n2. Pick a date\n\n# not a heading\nrestore --latest"
        ),
        ("Backups", "Restore", "Limits"): "Item | Limit\nFiles | 30 days",
        ("Backups", "Retention"): "Backups are kept for a year.",
        ("Setext heading",): "- top\n\n- nested diagram",
    }
    assert "owner" not in " ".join(sections.values())
    assert all(section.page is None for section in document.sections)


def test_title_from_first_h1_then_file_name(loader: DocumentLoader, tmp_path: Path) -> None:
    assert _load(loader, tmp_path, "## Minor\n\ntext\n\n# Major\n\nmore").title == "Major"
    untitled = _load(loader, tmp_path, "just text, *no* headings", name="release-notes_2.markdown")
    assert untitled.title == "release notes 2"
    assert untitled.sections[0].headings == ()


def test_front_matter_without_title_and_crlf(loader: DocumentLoader, tmp_path: Path) -> None:
    path = tmp_path / "crlf.md"
    path.write_bytes(b"\xef\xbb\xbf---\r\ndraft: true\r\n---\r\n# Heading\r\n\r\nBody\r\n")
    document = loader.load(path)
    assert document.title == "Heading"
    assert [(s.headings, s.text) for s in document.sections] == [(("Heading",), "Body")]


def test_cp1252_fallback(loader: DocumentLoader, tmp_path: Path) -> None:
    path = tmp_path / "old.md"
    path.write_bytes("# Caf\xe9\n\nPrijs: \u20ac 3".encode("cp1252"))
    document = loader.load(path)
    assert document.title == "Café"
    assert document.sections[0].text == "Prijs: € 3"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "no text found"),
        (b"  \n\n\t\n", "no text found"),
        (b"---\ntitle: Only front matter\n---\n", "no text found"),
        (b"# Only\n\n## Headings\n", "no text found"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 8, "binary content, not text"),
        (
            bytes([1, 2, 3, 4, 5, 6, 7, 8, 14, 15]) * 10 + b"mostly control bytes",
            "binary content, not text",
        ),
    ],
)
def test_markdown_without_text(loader: DocumentLoader, tmp_path: Path, content: bytes,
                               reason: str) -> None:
    path = tmp_path / "notes.md"
    path.write_bytes(content)
    with pytest.raises(LoaderError) as info:
        loader.load(path)
    assert str(info.value) == reason
