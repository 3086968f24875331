"""Embedders per collection: the server default, or a collection's own local model.

A Dutch collection may use a multilingual sentence-transformers model while the rest keep
MiniLM. Each model loads once (lazily) and is shared by ingest, search and quotes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from models.embedder import EmbedderProtocol, Vectors


class EmbedderPool:
    def __init__(self, default: EmbedderProtocol,
                 factory: Callable[[str], EmbedderProtocol]) -> None:
        self.default = default
        self._factory = factory
        self._models: dict[str, EmbedderProtocol] = {}
        self._lock = threading.Lock()

    def get(self, name: str | None) -> EmbedderProtocol:
        """The embedder for a collection's setting; None means the server default."""
        if not name or name == self.default.model_id:
            return self.default
        with self._lock:
            if name not in self._models:
                self._models[name] = self._factory(name)  # raises ModelNotFound on a bad path
            return self._models[name]


class CachedQueryEmbedder:
    """Wraps an embedder and remembers single-text calls, so a question set run through
    several modes or fusion settings embeds every question only once."""

    def __init__(self, inner: EmbedderProtocol) -> None:
        self._inner = inner
        self._cache: dict[str, Vectors] = {}

    @property
    def model_id(self) -> str:
        return self._inner.model_id

    @property
    def dimension(self) -> int:
        return self._inner.dimension

    def embed(self, texts: Sequence[str]) -> Vectors:
        if len(texts) != 1:
            return self._inner.embed(texts)
        if texts[0] not in self._cache:
            self._cache[texts[0]] = self._inner.embed(texts)
        return self._cache[texts[0]]


def cached_pool(pool: EmbedderPool) -> EmbedderPool:
    """A pool whose default embedder caches query embeddings (other models come from
    ``pool``), for running one question set through many search settings."""
    return EmbedderPool(CachedQueryEmbedder(pool.default), pool.get)
