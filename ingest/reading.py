"""Reading one file of a collection: through one descriptor, bounded, and never via a link.

Between the scan and the read a file may be replaced (by a symbolic link to /etc/shadow, by a
FIFO that would block the sync forever), may vanish, or may grow past the size limit. The file
is therefore opened once with ``O_NOFOLLOW`` and ``O_NONBLOCK``, checked to be a regular file on
that descriptor, and read up to one byte past the limit. The bytes read are the ones hashed and
parsed, so a document's sha256 always describes the text indexed from it.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .sections import LoaderError

_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def too_large(size: int, max_bytes: int) -> str:
    """The skip reason for a file over the size limit (the scan and the read say the same)."""
    return f"file too large ({size / 1e6:.1f} MB, limit {max_bytes / 1e6:.1f} MB)"


def unreadable(exc: OSError) -> str:
    """The skip reason for an OS error; ``str(exc)`` would name the server path."""
    return f"could not read file ({exc.strerror or 'I/O error'})"


def read_file(path: Path, max_bytes: int | None = None) -> bytes:
    """The bytes of the regular file at ``path``; ``LoaderError`` with an admin-safe reason for a
    missing or unreadable file, a link, anything but a regular file, or more than ``max_bytes``."""
    try:
        fd = os.open(path, _FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a link swapped in since the scan
            raise LoaderError("symbolic link not followed") from None
        raise LoaderError(unreadable(exc)) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise LoaderError("could not read file (not a regular file)")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    except OSError as exc:
        raise LoaderError(unreadable(exc)) from None
    finally:
        os.close(fd)
    if max_bytes is not None and len(data) > max_bytes:
        raise LoaderError(f"file grew past the size limit ({max_bytes / 1e6:.1f} MB) "
                          "during the scan")
    return data
