"""DOCX loader: heading styles build the heading path, tables are kept in document order, and
zip bombs are refused before anything inflates them."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import docx
import pytest

from ingest.loaders import DocumentLoader, LoaderError
from ingest.loaders.archives import check_archive
from tests.ingest.hostile import zip_bomb_docx


def _write_manual(path: Path, core_title: str = "") -> Path:
    document = docx.Document()
    document.core_properties.title = core_title
    document.add_paragraph("Remote access manual", style="Title")
    document.add_paragraph("This manual is for all staff.")
    document.add_heading("VPN", level=1)
    document.add_paragraph("Install the client from the software portal.")
    document.add_heading("Error codes", level=2)
    document.add_paragraph("These codes appear in the client log.")
    table = document.add_table(rows=2, cols=3)
    for row, cells in zip(
        table.rows,
        [("Code", "Meaning", "Fix"), ("809", "Port blocked", "Open UDP 500")],
        strict=True,
    ):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    document.add_paragraph("Call the helpdesk if the code is not listed.")
    document.add_heading("Email", level=1)
    document.add_paragraph("Use   the\tweb mail when travelling.")
    document.add_paragraph("Keep your mailbox small.", style="List Bullet")
    document.save(str(path))
    return path


def test_heading_path_and_table_rows(loader: DocumentLoader, tmp_path: Path) -> None:
    document = loader.load(_write_manual(tmp_path / "manual.docx"))
    by_heading = {section.headings: section for section in document.sections}
    title = "Remote access manual"
    assert list(by_heading) == [
        (title,),
        (title, "VPN"),
        (title, "VPN", "Error codes"),
        (title, "Email"),
    ]
    error_codes = by_heading[(title, "VPN", "Error codes")].text
    assert error_codes.split("\n\n") == [
        "These codes appear in the client log.",
        "Code | Meaning | Fix\n809 | Port blocked | Open UDP 500",
        "Call the helpdesk if the code is not listed.",
    ]
    assert by_heading[(title, "Email")].text == (
        "Use the web mail when travelling.\n\n- Keep your mailbox small."
    )
    assert all(section.page is None for section in document.sections)


def test_title_prefers_core_properties(loader: DocumentLoader, tmp_path: Path) -> None:
    path = _write_manual(tmp_path / "manual.docx", core_title="IT Manual v3")
    assert loader.load(path).title == "IT Manual v3"
    assert loader.load(_write_manual(tmp_path / "m2.docx")).title == "Remote access manual"


def test_title_falls_back_to_first_heading_then_stem(loader: DocumentLoader,
                                                     tmp_path: Path) -> None:
    document = docx.Document()
    document.core_properties.title = ""
    document.add_heading("Holiday policy", level=2)
    document.add_paragraph("Book leave two weeks ahead.")
    document.save(str(tmp_path / "with_heading.docx"))
    assert loader.load(tmp_path / "with_heading.docx").title == "Holiday policy"

    document = docx.Document()
    document.core_properties.title = ""
    document.add_paragraph("No headings at all.")
    document.save(str(tmp_path / "leave_rules-2025.docx"))
    loaded = loader.load(tmp_path / "leave_rules-2025.docx")
    assert loaded.title == "leave rules 2025"
    assert loaded.sections[0].headings == ()


def test_docx_without_text(loader: DocumentLoader, tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("Only a heading", level=1)
    document.save(str(tmp_path / "hollow.docx"))
    with pytest.raises(LoaderError, match=r"^no text found$"):
        loader.load(tmp_path / "hollow.docx")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "legacy .doc format"),
        (b"this is not a zip file", "not a DOCX file"),
        ("zip", "corrupt or unreadable DOCX"),
        ("truncated", "corrupt or unreadable DOCX"),
    ],
)
def test_damaged_docx(loader: DocumentLoader, tmp_path: Path, content: object, reason: str) -> None:
    path = tmp_path / "broken.docx"
    if content == "zip":  # a valid zip that is not a Word document
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("hello.txt", "hi")
        path.write_bytes(buffer.getvalue())
    elif content == "truncated":
        data = _write_manual(tmp_path / "whole.docx").read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        assert isinstance(content, bytes)
        path.write_bytes(content)
    with pytest.raises(LoaderError) as info:
        loader.load(path)
    assert reason in str(info.value)
    assert str(tmp_path) not in str(info.value)


def test_zip_bomb_is_refused_quickly_before_inflating(loader: DocumentLoader,
                                                      tmp_path: Path) -> None:
    bomb = zip_bomb_docx(tmp_path / "bomb.docx")  # word/document.xml: 1.1 GB of zeros
    assert bomb.stat().st_size < 2_000_000
    started = time.monotonic()
    with pytest.raises(LoaderError) as info:
        loader.load(bomb)
    assert time.monotonic() - started < 5
    # refused by the archive check, not by the parser hitting the worker's memory limit
    assert str(info.value) == "DOCX would inflate to 1,154 MB, past the limit of 200 MB"
    assert "Remote access manual" in loader.load(_write_manual(tmp_path / "ok.docx")).title


def test_archive_limits_are_checked_in_that_order(tmp_path: Path) -> None:
    bomb = zip_bomb_docx(tmp_path / "bomb.docx", inflated_mb=40).read_bytes()

    def check(data: bytes, max_inflated: int, max_ratio: float = 200.0) -> None:
        check_archive(data, kind="DOCX", max_inflated_bytes=max_inflated,
                      max_compression_ratio=max_ratio)

    with pytest.raises(LoaderError, match=r"^DOCX would inflate to 4\d MB, past the limit "
                                          r"of 10 MB$"):
        check(bomb, 10_000_000)
    with pytest.raises(LoaderError, match=r"^DOCX member compressed 1,0\d\d:1, past the limit "
                                          r"of 200:1 \(a zip bomb\?\)$"):
        check(bomb, 100_000_000)
    check(bomb, 100_000_000, max_ratio=2000.0)  # within both limits: inflated and counted
    manual = _write_manual(tmp_path / "ok.docx").read_bytes()
    check(manual, 10_000_000)
    with pytest.raises(LoaderError, match=r"^corrupt or unreadable DOCX$"):
        check(manual[: len(manual) // 2], 10_000_000)


def test_zip_member_that_lies_about_its_size_is_not_inflated_past_it(tmp_path: Path) -> None:
    bomb = bytearray(zip_bomb_docx(tmp_path / "bomb.docx", inflated_mb=40).read_bytes())
    # declare 1 kB for the 40 MB member, in its local header and in the central directory
    local = bomb.index(b"PK\x03\x04" + bytes(bomb[4:6]), bomb.index(b"word/document.xml") - 40)
    central = bomb.index(b"PK\x01\x02", bomb.rindex(b"word/document.xml") - 60)
    bomb[local + 22 : local + 26] = (1000).to_bytes(4, "little")
    bomb[central + 24 : central + 28] = (1000).to_bytes(4, "little")
    with pytest.raises(LoaderError, match=r"^corrupt or unreadable DOCX$"):
        check_archive(bytes(bomb), kind="DOCX", max_inflated_bytes=10_000_000,
                      max_compression_ratio=200)
