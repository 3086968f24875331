"""Collections: a name, a folder and a language. Creating one doesn't index it; a sync does."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.core.errors import InvalidInput, NotFound
from app.core.names import NAME
from app.knowledge.records import CollectionOut
from app.knowledge.tables import Chunk, Collection, Document
from ingest.lexical import LANGUAGES
from models.errors import ModelNotFound
from models.registry import resolve_embedder


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

    def get(self, name: str) -> Collection:
        with self._sessions() as session:
            coll = session.scalars(select(Collection).where(Collection.name == name)).first()
        if coll is None:
            raise NotFound(f"collection '{name}' not found", code="collection_not_found")
        return coll

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
