"""HTML loader: content without page chrome, heading path from h1-h6, encodings."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import DocumentLoader, LoaderError

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>VPN guide - Intranet</title>
<style>.menu { color: red }</style><script>var secretScript = 1;</script></head>
<body>
<header><a href="/">Intranet home banner</a></header>
<nav><ul><li>Navigation link</li></ul></nav>
<main>
  <h1>VPN guide</h1>
  <p>Connect   to
     <a href="https://vpn.example.org">the gateway</a> before <b>9:00</b>.</p>
  <h2>Install</h2>
  <ul><li>Download the client</li><li>Run the <em>installer</em></li></ul>
  <h3>Windows</h3>
  <p>Use the MSI package.</p>
  <h2>Error codes</h2>
  <table><tr><th>Code</th><th>Meaning</th></tr><tr><td>809</td><td>Port blocked</td></tr></table>
  <pre>vpn --connect
vpn --status</pre>
  <div>Loose text in a div.<br>Second line.</div>
  <blockquote><p>Quoted advice.</p></blockquote>
  <dl><dt>MFA</dt><dd>Multi-factor authentication.</dd></dl>
  <aside>Related pages sidebar</aside>
  <form><label>Search form label</label></form>
  <!-- an HTML comment -->
</main>
<footer>Copyright footer text</footer>
<noscript>Enable JavaScript noscript</noscript>
</body></html>
"""


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def test_content_and_heading_path(loader: DocumentLoader, tmp_path: Path) -> None:
    document = loader.load(_write(tmp_path, "vpn.html", PAGE))
    assert document.title == "VPN guide - Intranet"
    sections = {section.headings: section.text for section in document.sections}
    assert list(sections) == [
        ("VPN guide",),
        ("VPN guide", "Install"),
        ("VPN guide", "Install", "Windows"),
        ("VPN guide", "Error codes"),
    ]
    assert sections[("VPN guide",)] == "Connect to the gateway before 9:00."
    assert sections[("VPN guide", "Install")] == "- Download the client\n\n- Run the installer"
    assert sections[("VPN guide", "Error codes")].split("\n\n") == [
        "Code | Meaning\n809 | Port blocked",
        "vpn --connect\nvpn --status",
        "Loose text in a div.\nSecond line.",
        "Quoted advice.",
        "MFA",
        "Multi-factor authentication.",
    ]
    assert all(section.page is None for section in document.sections)


def test_chrome_scripts_and_styles_are_removed(loader: DocumentLoader, tmp_path: Path) -> None:
    document = loader.load(_write(tmp_path, "vpn.htm", PAGE))
    everything = " ".join(s.text + " ".join(s.headings) for s in document.sections)
    for unwanted in (
        "secretScript",
        "color: red",
        "banner",
        "Navigation link",
        "sidebar",
        "Search form",
        "Copyright footer",
        "noscript",
        "HTML comment",
    ):
        assert unwanted not in everything


def test_body_is_used_without_main_and_article_header_is_kept(
    loader: DocumentLoader, tmp_path: Path
) -> None:
    page = """<html><body><nav>Menu</nav>
    <article><header><h1>Printing</h1></header><p>Printers are on floor 3.</p>
    <footer>Last reviewed 2025</footer></article>
    <footer>Site footer</footer></body></html>"""
    document = loader.load(_write(tmp_path, "printing.html", page))
    assert document.title == "Printing"  # no <title>: the first h1
    assert [(s.headings, s.text) for s in document.sections] == [
        (("Printing",), "Printers are on floor 3.\n\nLast reviewed 2025"),
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('<div>Menu junk</div><div role="main"><p>Main text.</p></div>', ["Main text."]),
        ("<article><p>One.</p></article><article><p>Two.</p></article>", ["One.", "Two."]),
        ("<ul><li></li></ul><p>Not a list item.</p>", ["Not a list item."]),
    ],
)
def test_content_root_choice(
    loader: DocumentLoader, tmp_path: Path, body: str, expected: list[str]
) -> None:
    document = loader.load(_write(tmp_path, "root.html", f"<html><body>{body}</body></html>"))
    assert document.sections[0].text.split("\n\n") == expected


def test_title_falls_back_to_file_name(loader: DocumentLoader, tmp_path: Path) -> None:
    document = loader.load(_write(tmp_path, "office_hours.html", "<p>Open 8 to 5.</p>"))
    assert document.title == "office hours"
    assert document.sections[0].text == "Open 8 to 5."


def test_meta_charset_is_honoured(loader: DocumentLoader, tmp_path: Path) -> None:
    page = '<html><head><meta charset="windows-1252"><title>Caf\xe9</title></head>'
    page += "<body><p>Cr\xe8me br\xfbl\xe9e \u2013 \u20ac 4</p></body></html>"
    document = loader.load(_write(tmp_path, "menu.html", page.encode("cp1252")))
    assert document.title == "Café"
    assert document.sections[0].text == "Crème brûlée – € 4"


def test_utf8_without_declaration(loader: DocumentLoader, tmp_path: Path) -> None:
    document = loader.load(_write(tmp_path, "n.html", "<p>Ærø – 10 €</p>"))
    assert document.sections[0].text == "Ærø – 10 €"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "no text found"),
        (
            b"<html><body><nav>Only navigation</nav><script>x()</script></body></html>",
            "no text found",
        ),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
            "binary content, not text",
        ),
    ],
)
def test_html_without_text(loader: DocumentLoader, tmp_path: Path, content: bytes,
                           reason: str) -> None:
    with pytest.raises(LoaderError) as info:
        loader.load(_write(tmp_path, "x.html", content))
    assert str(info.value) == reason
