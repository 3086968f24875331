"""Embedders per collection: the server default, or a collection's own local model.

A Dutch collection may use a multilingual sentence-transformers model while the rest keep
MiniLM. Each model loads once (lazily) and is shared by ingest, search and quotes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from models.embedder import EmbedderProtocol


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
