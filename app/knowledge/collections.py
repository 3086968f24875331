"""Collections: a name, a folder and a language. Creating one doesn't index it; a sync does."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.names import NAME
from app.knowledge.records import CollectionOut, FlaggedPassage
from app.knowledge.tables import Chunk, Collection, Document
from ingest.lexical import LANGUAGES
from models.errors import ModelNotFound
from models.registry import resolve_embedder


def flagged_passages(session: Session, collection_id: int) -> list[dict[str, str]]:
    """Each document of the collection with a chunk flagged as a possible prompt injection,
    once per reason, in document order."""
    rows = session.execute(
        select(Document.path, Chunk.injection)
        .join(Document, Chunk.document_id == Document.id)
        .where(Chunk.collection_id == collection_id, Chunk.injection.is_not(None))
        .order_by(Document.path, Chunk.ord)).all()
    return [{"path": path, "reason": reason}
            for path, reason in dict.fromkeys((p, r) for p, r in rows if r)]


class CollectionService:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def upsert(self, name: str, root: Path, language: str = "en",
               embedder: str | None = None) -> Collection:
        """Create the collection or point it at a new folder, language or embedding model.

        ``embedder`` is a local sentence-transformers directory (e.g. a multilingual model for
        a Dutch collection); None keeps the server default. Changing it re-embeds on next sync.
        """
        if not NAME.match(name):
            raise InvalidInput(
                "collection names are 1-64 characters: lower-case letters, digits, - and _",
                code="invalid_collection_name",
            )
        if language not in LANGUAGES:
            raise InvalidInput(
                f"unsupported language '{language}' (known: {', '.join(sorted(LANGUAGES))})",
                code="invalid_language",
            )
        if embedder is not None:
            try:
                embedder = str(resolve_embedder(embedder).resolve())
            except ModelNotFound as exc:
                raise InvalidInput(str(exc), code="invalid_embedding_model") from None
        if not root.is_dir():
            raise InvalidInput("the folder does not exist or is not a directory",
                               code="invalid_folder")
        try:  # the folder is stored as text: a path with bytes that are not UTF-8 cannot be
            str(root.resolve()).encode()
        except UnicodeEncodeError:
            raise InvalidInput("the folder's path is not valid UTF-8; rename it",
                               code="invalid_folder") from None
        with self._sessions() as session:
            coll = session.scalars(select(Collection).where(Collection.name == name)).first()
            if coll is None:
                coll = Collection(name=name, root=str(root.resolve()), language=language,
                                  embedder=embedder)
                session.add(coll)
            else:
                if coll.language != language:
                    coll.content_version += 1  # the BM25 analyser changes: rebuild snapshot
                coll.root, coll.language, coll.embedder = str(root.resolve()), language, embedder
            session.commit()
            return coll

    def create_under(self, roots: Sequence[Path], root: Path, folder: str, name: str,
                     language: str = "en", embedder: str | None = None) -> Collection:
        """Create a collection from ``folder`` (relative) inside ``root``, one of ``roots``.

        For callers that must not reach the whole file system (the web pages): the folder is
        resolved (``..``, symlinks) and refused unless it stays inside its root; an absolute
        path is refused outright. An existing name is refused, not re-pointed.
        """
        allowed = [r.resolve() for r in roots]
        if not allowed:
            raise InvalidInput("creating collections here is disabled: no document roots are "
                               "configured (ingest.document_roots)", code="no_document_roots")
        base = root.resolve()
        if base not in allowed:
            raise InvalidInput("that folder is not one of the document roots",
                               code="invalid_folder")
        relative = Path(folder.strip() or ".")
        if relative.is_absolute() or relative.drive or folder.strip().startswith(("/", "\\")):
            raise InvalidInput("give the folder relative to its document root, not an "
                               "absolute path", code="invalid_folder")
        try:
            target = (base / relative).resolve()
        except (OSError, ValueError, RuntimeError):
            raise InvalidInput("that folder name is not valid", code="invalid_folder") from None
        if not target.is_relative_to(base):
            raise InvalidInput("that folder is outside its document root", code="invalid_folder")
        if name in self.names():
            raise Conflict(f"collection '{name}' already exists", code="collection_exists")
        return self.upsert(name, target, language, embedder)

    def get(self, name: str) -> Collection:
        with self._sessions() as session:
            coll = session.scalars(select(Collection).where(Collection.name == name)).first()
        if coll is None:
            raise NotFound(f"collection '{name}' not found", code="collection_not_found")
        return coll

    def flagged(self, name: str) -> list[FlaggedPassage]:
        """The collection's passages flagged as a possible prompt injection (404 for an
        unknown collection)."""
        coll = self.get(name)
        with self._sessions() as session:
            return [FlaggedPassage.model_validate(f) for f in flagged_passages(session, coll.id)]

    def names(self) -> frozenset[str]:
        with self._sessions() as session:
            return frozenset(session.scalars(select(Collection.name)))

    def list(self, *, readable: set[str] | frozenset[str]) -> list[CollectionOut]:
        """Summaries of the collections the caller may read (never the server folder)."""
        with self._sessions() as session:
            docs = dict(session.execute(
                select(Document.collection_id, func.count()).group_by(Document.collection_id)
            ).all())
            chunks = dict(session.execute(
                select(Chunk.collection_id, func.count()).group_by(Chunk.collection_id)
            ).all())
            colls = session.scalars(select(Collection).order_by(Collection.name)).all()
        return [
            CollectionOut(
                name=c.name,
                language=c.language,
                documents=docs.get(c.id, 0),
                chunks=chunks.get(c.id, 0),
                snapshot_id=c.snapshot_id,
                indexed_at=c.indexed_at.isoformat() if c.indexed_at else None,
                embedding_model=c.embedding_model,
            )
            for c in colls
            if c.name in readable
        ]
