"""The original file behind a citation, for the reader who wants the whole document.

Only a document the index knows (a ``Document`` row of a collection the caller may read) is
served, and only from inside its collection's folder: the stored relative path is resolved
against the folder and refused if it lands outside it (a ``..`` or a symlink swapped in since
the last index). Unknown, unreadable and escaped paths all get the same 404. A stored path is
the display form of the file's name (``ingest.names``): a name that is not UTF-8 is found again
through ``filesystem_name``.
"""

from __future__ import annotations

from collections.abc import Collection as Names
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.core.errors import NotFound
from app.knowledge.tables import Collection, Document
from ingest.names import filesystem_name

# what a browser may be given inline; anything else is a download
INLINE = {".pdf": "application/pdf", ".md": "text/plain; charset=utf-8",
          ".txt": "text/plain; charset=utf-8", ".html": "text/html; charset=utf-8",
          ".htm": "text/html; charset=utf-8"}


@dataclass(frozen=True)
class Original:
    path: Path
    filename: str
    media_type: str
    inline: bool


class OriginalDocuments:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def locate(self, collection: str, document: str, *, allowed: Names[str]) -> Original:
        missing = NotFound("document not found", code="document_not_found")
        if collection not in set(allowed):
            raise missing
        with self._sessions() as session:
            row = session.execute(
                select(Collection.root, Document.path)
                .join(Document, Document.collection_id == Collection.id)
                .where(Collection.name == collection, Document.path == document)).first()
        if row is None:
            raise missing
        root = Path(row[0]).resolve()
        path = (root / row[1]).resolve()
        if not path.is_file():
            path = (root / filesystem_name(row[1])).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            raise missing
        media = INLINE.get(path.suffix.lower())
        return Original(path=path, filename=Path(row[1]).name,
                        media_type=media or "application/octet-stream", inline=media is not None)
