"""Zip-based formats (DOCX) are checked member by member before any parser inflates them.

A zip bomb is a few kilobytes on disk and gigabytes once inflated; python-docx inflates every
member into memory. So before it runs, each member's declared size and compression ratio are
checked against the limits, and then every member is actually inflated in small pieces while
the bytes are counted, stopping at the limit: a member whose header lies about its size cannot
get past the count, and no piece larger than ``_PIECE`` is ever held.
"""

from __future__ import annotations

import io
import zipfile
import zlib

from ..sections import LoaderError

_PIECE = 1 << 16
# Tiny members (a 2 kB XML of one repeated tag) compress far beyond any ratio a bomb needs;
# the ratio only tells something about members large enough to hurt.
_RATIO_FLOOR = 1 << 20


def check_archive(data: bytes, *, kind: str, max_inflated_bytes: int,
                  max_compression_ratio: float) -> None:
    """Raise ``LoaderError`` unless every member of the zip ``data`` inflates within the limits
    (their total at most ``max_inflated_bytes``, a large member's ratio at most the ratio)."""
    limit = f"the limit of {max_inflated_bytes / 1e6:g} MB"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            declared = sum(info.file_size for info in members)
            if declared > max_inflated_bytes:
                raise LoaderError(f"{kind} would inflate to {declared / 1e6:,.0f} MB, past {limit}")
            for info in members:
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > _RATIO_FLOOR and ratio > max_compression_ratio:
                    raise LoaderError(f"{kind} member compressed {ratio:,.0f}:1, past the limit "
                                      f"of {max_compression_ratio:g}:1 (a zip bomb?)")
            inflated = 0
            for info in members:
                with archive.open(info) as member:
                    while piece := member.read(_PIECE):
                        inflated += len(piece)
                        if inflated > max_inflated_bytes:
                            raise LoaderError(f"{kind} inflates past {limit}")
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError,
            ValueError):  # damaged, encrypted or in a compression zipfile cannot read
        raise LoaderError(f"corrupt or unreadable {kind}") from None
