"""Turning the bytes of a text-like file (HTML, Markdown, plain text) into a ``str``.

Files in a documentation share come from many editors: UTF-8 with or without a BOM, UTF-16
from Windows tools, and old cp1252 files. Binary files that merely carry a text suffix (a
renamed archive, an image saved as ``.md``) must be skipped with a clear reason rather than
indexed as garbage.
"""

from __future__ import annotations

import codecs

from ..sections import LoaderError

_SAMPLE_BYTES = 8192
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_MAX_CONTROL_RATIO = 0.10
# C0 control bytes and DEL, except \t \n \f \r, which ordinary text uses.
_CONTROL_BYTES = frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D} | {0x7F}


def looks_binary(data: bytes) -> bool:
    """True for NUL bytes in the first 8 KB or more than 10% control bytes there."""
    sample = data[:_SAMPLE_BYTES]
    if not sample:
        return False
    if b"\x00" in sample:
        return True
    controls = sum(1 for byte in sample if byte in _CONTROL_BYTES)
    return controls / len(sample) > _MAX_CONTROL_RATIO


def _utf16(data: bytes) -> str | None:
    """Decode UTF-16 text that starts with a byte-order mark; None when it is not that."""
    if not data.startswith(_BOMS[1:]):
        return None
    try:
        return data.decode("utf-16")
    except UnicodeDecodeError:
        return None


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode_text(data: bytes) -> str:
    """Decode ``data`` as UTF-8 (BOM stripped), else cp1252; reject binary content."""
    text = _utf16(data)
    if text is None:
        if looks_binary(data):
            raise LoaderError("binary content, not text")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    return normalise_newlines(text)


def decode_with(data: bytes, encoding: str | None) -> str:
    """Decode with a declared encoding (e.g. an HTML meta charset), else as ``decode_text``."""
    if encoding and not data.startswith(_BOMS):
        try:
            codec = codecs.lookup(encoding)
        except LookupError:
            codec = None
        # A page that claims UTF-16 but is ASCII-compatible bytes is mislabelled: ignore the claim.
        if codec is not None and not codec.name.startswith("utf-16") and not looks_binary(data):
            try:
                return normalise_newlines(data.decode(codec.name))
            except UnicodeDecodeError:
                pass
    return decode_text(data)
