"""File names as data: any name a file system allows, as text that is safe to store and show.

On Linux a file name is bytes. Python decodes it with surrogate escapes (``os.fsdecode``), so a
name copied from an old Windows or Samba share (``b"caf\\xe9.md"``) becomes ``"caf\\udce9.md"``:
a ``str`` that UTF-8, and with it every SQL driver, JSON encoder and hash of the name, refuses.
``display_name`` writes every such byte, and every control character (a newline in a name must
not forge a line in a log or in the CLI's output), as ``%XX``; every other name comes back
unchanged, so existing documents keep their paths and chunk ids.

``filesystem_name`` undoes that. Only a name that does not exist as written needs it (a literal
``%FF`` in a valid name is left alone by ``display_name``); scanning refuses a second file whose
name displays like the first, so within one collection the mapping stays one-to-one.
"""

from __future__ import annotations

import re

_ESCAPE = re.compile(r"[\x00-\x1f\x7f\udc80-\udcff]")
_ESCAPED = re.compile(r"%([01][0-9A-F]|7F|[89A-F][0-9A-F])")
_SURROGATE_BASE = 0xDC00  # os.fsdecode maps an undecodable byte b to chr(0xDC00 + b)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"%{code - _SURROGATE_BASE if code >= _SURROGATE_BASE else code:02X}"


def _unescape(match: re.Match[str]) -> str:
    byte = int(match.group(1), 16)
    return chr(_SURROGATE_BASE + byte if byte >= 0x80 else byte)


def display_name(name: str) -> str:
    """``name`` (as ``os.fsdecode`` gives it) with undecodable bytes and controls as ``%XX``."""
    return _ESCAPE.sub(_escape, name)


def filesystem_name(shown: str) -> str:
    """The ``os.fsdecode`` form of a name ``display_name`` turned into ``shown``."""
    return _ESCAPED.sub(_unescape, shown)
