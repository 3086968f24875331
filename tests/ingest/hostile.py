"""A hostile-file corpus, generated where a test needs it (nothing large is committed).

Each writer makes one file an attacker (or an unlucky share) puts beside good documents: a
zip-bomb DOCX, a 'word' of megabytes without a space, random bytes named ``.md``, a file whose
name is not UTF-8, a PDF with too many pages, a text with too much text.
"""

from __future__ import annotations

import io
import os
import random
import struct
import zipfile
import zlib
from pathlib import Path

import docx
from fpdf import FPDF

_MB = 1 << 20


def _deflated_zeros(megabytes: int) -> tuple[bytes, int]:
    """Raw deflate data of ``megabytes`` MiB of zeros, and its CRC-32, without compressing
    them all: after a full flush each MiB compresses to the same bytes, so one block repeats."""
    zeros = bytes(_MB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    data = block * megabytes + compressor.flush()
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(zeros, crc)
    return data, crc


def _write_zip(path: Path, members: list[tuple[str, bytes, int, int]]) -> None:
    """A zip of already deflated ``(name, data, crc, inflated size)`` members (no zip64)."""
    out = io.BytesIO()
    central = b""
    for name, data, crc, size in members:
        encoded = name.encode()
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data),
                              size, len(encoded), 0) + encoded + data)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc,
                               len(data), size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    start = out.tell()
    out.write(central + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members),
                                    len(central), start, 0))
    path.write_bytes(out.getvalue())


def zip_bomb_docx(path: Path, inflated_mb: int = 1100) -> Path:
    """A valid DOCX (python-docx's own parts) whose ``word/document.xml`` is replaced by
    ``inflated_mb`` MiB of zeros: about a thousandth of that on disk."""
    source = io.BytesIO()
    docx.Document().save(source)
    members = []
    with zipfile.ZipFile(source) as archive:
        for info in archive.infolist():
            if info.filename == "word/document.xml":
                data, crc = _deflated_zeros(inflated_mb)
                members.append((info.filename, data, crc, inflated_mb * _MB))
            else:
                raw = archive.read(info)
                packer = zlib.compressobj(9, zlib.DEFLATED, -15)
                members.append((info.filename, packer.compress(raw) + packer.flush(),
                                zlib.crc32(raw), len(raw)))
    _write_zip(path, members)
    return path


def no_space_word(path: Path, megabytes: float = 3) -> Path:
    """One 'word' of ``megabytes`` MB: no space, no line break, no sentence end."""
    path.write_bytes(b"x" * int(megabytes * 1_000_000))
    return path


def random_high_bytes(path: Path, size: int = 16_384) -> Path:
    """Bytes 0x80-0xFF only: no NUL or control byte a naive binary check would see."""
    rng = random.Random(14)
    path.write_bytes(bytes(rng.randrange(0x80, 0x100) for _ in range(size)))
    return path


def non_utf8_name(folder: Path, text: str, stem: bytes = b"caf\xe9-notes") -> Path:
    """A Markdown file whose name holds a byte that is not UTF-8 (a cp1252 share's 'é')."""
    path = Path(os.fsdecode(os.fsencode(folder) + b"/" + stem + b".md"))
    path.write_text(text)
    return path


def many_pages_pdf(path: Path, pages: int) -> Path:
    """A PDF of ``pages`` numbered pages of text."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.cell(0, 10, f"Page {number} of the long manual.")
    pdf.output(str(path))
    return path


def too_much_text(path: Path, paragraphs: int) -> Path:
    """A text file of ``paragraphs`` numbered, ordinary paragraphs."""
    path.write_text("\n\n".join(f"Paragraph {n} says something about printers and tape."
                                for n in range(paragraphs)))
    return path
