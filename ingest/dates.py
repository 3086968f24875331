"""A document's date, and where it came from: what "this document is old" is judged by.

Each format says it in its own place: a Markdown file in its front matter (``last_reviewed:``,
``updated:``, ``date:``), a PDF in its metadata (ModDate, CreationDate), a DOCX in its core
properties (modified, created), an HTML page in a ``<meta>`` tag (``date``,
``dcterms.modified``, ``article:modified_time`` and the like). When a file names several, the
latest wins: a page reviewed last month is not old because it was first written in 2019. A
file that names none is dated by its modification time on disk (``file_date``).

Dates are document data, so they are read defensively: a value that does not parse, or lies
before 1970 or more than a day in the future (a typo, a clock reset), is ignored, and the
next source is tried. Every date is an aware UTC datetime; a date without a time is midnight
UTC, a time without a zone is taken to be UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

# The vocabulary of ``dated_from``: "<format>:<field>" or "file:mtime".
FILE_MTIME = "file:mtime"
FRONT_MATTER_FIELDS = ("last_reviewed", "updated", "date")
HTML_META_NAMES = ("date", "last-modified", "revised", "dc.date", "dc.date.modified",
                   "dcterms.date", "dcterms.modified", "article:modified_time",
                   "article:published_time", "og:updated_time")

_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_FIELD = re.compile(rf"^({'|'.join(FRONT_MATTER_FIELDS)})[ \t]*:[ \t]*(.+?)[ \t]*$",
                    re.MULTILINE)


@dataclass(frozen=True)
class DocumentDate:
    """When the document says it was last written or reviewed (aware UTC), and where that
    was read, e.g. ``markdown:updated``, ``pdf:ModDate`` or ``file:mtime``."""

    at: datetime
    source: str


def plausible(at: datetime, now: datetime | None = None) -> datetime | None:
    """``at`` as aware UTC, or None when it cannot be a real document date."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    latest = (now or datetime.now(UTC)) + timedelta(days=1)
    return at if _EARLIEST <= at <= latest else None


def parse_date(value: object) -> datetime | None:
    """An ISO 8601 date or date-time (``2024-03-05``, ``2024-03-05T10:00:00Z``,
    ``2024-03-05 10:00``), an HTTP date, a ``date`` or ``datetime``, as plausible aware UTC;
    else None."""
    if isinstance(value, datetime):
        return plausible(value)
    if isinstance(value, date):
        return plausible(datetime(value.year, value.month, value.day, tzinfo=UTC))
    if not isinstance(value, str):
        return None
    text = value.strip().strip("'\"").strip()
    if not text or len(text) > 64:
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return plausible(datetime.fromisoformat(text))
    except ValueError:
        pass
    try:  # an HTTP date, as a ``last-modified`` meta tag holds: Tue, 15 Nov 1994 08:12:31 GMT
        return plausible(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        return None


def latest(candidates: Iterable[tuple[str, datetime | None]]) -> DocumentDate | None:
    """The latest of ``(source, date)`` pairs that has a date; the first source on a tie."""
    best: DocumentDate | None = None
    for source, at in candidates:
        if at is not None and (best is None or at > best.at):
            best = DocumentDate(at, source)
    return best


def front_matter_date(block: str) -> DocumentDate | None:
    """The latest of the front matter's ``last_reviewed``, ``updated`` and ``date`` fields
    (top-level scalar fields of the YAML block, read without a YAML parser: nothing else of
    the block is needed, and a plain date is all these fields ever hold)."""
    return latest((f"markdown:{m.group(1)}", parse_date(_strip_comment(m.group(2))))
                  for m in _FIELD.finditer(block))


def file_date(path: Path) -> DocumentDate | None:
    """The file's modification time; None if it cannot be read or is implausible."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    at = plausible(datetime.fromtimestamp(mtime, UTC))
    return DocumentDate(at, FILE_MTIME) if at is not None else None


def _strip_comment(value: str) -> str:
    """``2024-03-05  # reviewed by Ann`` -> ``2024-03-05`` (a YAML comment after a value)."""
    return re.split(r"[ \t]+#", value, maxsplit=1)[0]
