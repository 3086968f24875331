"""Turning the bytes of a text-like file (HTML, Markdown, plain text) into a ``str``.

Files in a documentation share come from many editors: UTF-8 with or without a BOM, UTF-16
from Windows tools, and old cp1252 files. Binary files that merely carry a text suffix (a
renamed archive, an image saved as ``.md``) must be skipped with a clear reason rather than
indexed as garbage.

Control bytes give most binaries away. The rest (compressed or encrypted data, random bytes)
are bytes of 0x80 and above that are not UTF-8, which cp1252 would happily decode into a soup
of accented letters and symbols. Real cp1252 text is not like that: in the Western languages it
serves, letters outside ASCII are a few percent of the bytes. So bytes that are not UTF-8 count
as text only when at most ``_MAX_HIGH_SHARE`` of them are 0x80 or above (in samples too short
to judge, any share passes); and bytes that are UTF-8 but for a few damaged sequences are read
as UTF-8 with those replaced, not as cp1252. Text in other legacy code pages (cp1251 Cyrillic,
cp1253 Greek) is refused as binary: cp1252 would only have made it unreadable.
"""

from __future__ import annotations

import codecs

from ..sections import LoaderError

_SAMPLE_BYTES = 8192
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_MAX_CONTROL_RATIO = 0.10
# C0 control bytes and DEL, except \t \n \f \r, which ordinary text uses.
_CONTROL_BYTES = frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D} | {0x7F}
_HIGH_BYTES = bytes(range(0x80, 0x100))
_MAX_HIGH_SHARE = 0.30
_MIN_JUDGED_BYTES = 64
# valid multi-byte UTF-8 characters per damaged sequence for bytes to count as damaged UTF-8
_UTF8_MAJORITY = 10


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


def _damaged_utf8(data: bytes) -> str | None:
    """``data`` as UTF-8 with its few bad sequences replaced, if it is mostly UTF-8."""
    text = data.decode("utf-8-sig", errors="replace")
    damaged = text.count("\ufffd")
    valid = len(text) - len(text.encode("ascii", errors="ignore")) - damaged
    return text if valid >= _UTF8_MAJORITY * damaged else None


def _cp1252(data: bytes) -> str:
    """``data`` as cp1252 text, unless too many of its bytes are high for text (see above)."""
    high = len(data) - len(data.translate(None, _HIGH_BYTES))
    if len(data) >= _MIN_JUDGED_BYTES and high > _MAX_HIGH_SHARE * len(data):
        raise LoaderError("binary content, not text")
    return data.decode("cp1252", errors="replace")


def decode_text(data: bytes) -> str:
    """Decode ``data`` as UTF-8 (BOM stripped), else cp1252; reject binary content."""
    text = _utf16(data)
    if text is None:
        if looks_binary(data):
            raise LoaderError("binary content, not text")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = _damaged_utf8(data) or _cp1252(data)
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
            except (UnicodeDecodeError, LookupError):  # LookupError: not a text codec (rot13)
                pass
    return decode_text(data)
