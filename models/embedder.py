"""Sentence embedders. Vectors are float32 and L2-normalised, so inner product is cosine."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from models.registry import resolve_embedder

Vectors = npt.NDArray[np.float32]


class EmbedderProtocol(Protocol):
    """What ingest and search need from an embedding model."""

    @property
    def model_id(self) -> str:
        """Stable name recorded in every index snapshot (a mismatch is refused)."""
        ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One normalised row per text."""
        ...


class SentenceTransformerEmbedder:
    """A local sentence-transformers model, loaded once on first use."""

    def __init__(self, name: str, batch_size: int = 32, threads: int = 0) -> None:
        self._name = name
        self._path = resolve_embedder(name)  # fail fast on a bad setting, load lazily
        self._batch_size = batch_size
        self._threads = threads
        self._model: object | None = None
        self._lock = threading.Lock()
        self._dimension: int | None = None

    @property
    def model_id(self) -> str:
        return self._name if "/" not in self._name else self._path.name

    def _load(self) -> object:
        with self._lock:
            if self._model is None:
                import torch
                from sentence_transformers import SentenceTransformer

                if self._threads:
                    # torch's intra-op threads are per process; beside a llama.cpp worker on
                    # the same cores, two threads stall each other (measured: query
                    # embedding 19 ms -> 520 ms p50 with one core busy; 1 thread: 16-19 ms)
                    torch.set_num_threads(self._threads)
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # quiet CLI

                model = SentenceTransformer(str(self._path), device="cpu", local_files_only=True)
                self._dimension = int(model.get_embedding_dimension() or 0)
                self._model = model
            return self._model

    @property
    def dimension(self) -> int:
        self._load()
        assert self._dimension is not None
        return self._dimension

    def embed(self, texts: Sequence[str]) -> Vectors:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = model.encode(  # type: ignore[attr-defined]
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
