"""Sentence embedders. Vectors are float32 and L2-normalised, so inner product is cosine.

Precision: on a CPU with native bfloat16 matrix units (Intel AMX or AVX512-BF16), batches are
embedded under ``torch.autocast(bfloat16)``: matrix products in bfloat16, layer norms, pooling
and normalisation in float32. ``python -m bench.embedding`` (712 chunks of the generated
corpus, 2 cores, batch 32): 40.6 vs 97.1 chunks/s (2.39x; 2.62x in another run), cosine to the
float32 vectors >= 0.99997, so the two are one vector space and may share an index. A single
short text (a query) stays float32: bfloat16 was slower there (p50 18.3 vs 14.5 ms on one
thread). ``precision="float32"`` turns it off.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
from collections.abc import Iterator, Sequence
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from models.registry import resolve_embedder

Vectors = npt.NDArray[np.float32]
Precision = Literal["auto", "float32", "bfloat16"]
BULK_MIN = 8  # texts per call from which bfloat16 pays off (a query is one text)


def native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AMX tiles or AVX512-BF16).

    Without it oneDNN emulates bfloat16 and is slower than float32. The probes are private
    torch helpers: if a torch release drops them, the answer is a safe "no".
    """
    import torch

    probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    try:
        return any(bool(getattr(torch.cpu, name)()) for name in probes)
    except (AttributeError, RuntimeError):
        return False


def _trim_heap() -> None:
    """Hand freed heap pages back to the OS after a batch (glibc only; elsewhere a no-op).

    Batches of varying shapes leave glibc arenas fragmented, and RSS only grows otherwise.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


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

    def __init__(self, name: str, batch_size: int = 32, threads: int = 0,
                 precision: Precision = "auto") -> None:
        self._name = name
        self._path = resolve_embedder(name)  # fail fast on a bad setting, load lazily
        self._batch_size = batch_size
        self._threads = threads
        self._precision = precision
        self._bulk_bfloat16: bool | None = None
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

    @property
    def bulk_precision(self) -> str:
        """The precision batches are embedded in: 'bfloat16' or 'float32'."""
        if self._bulk_bfloat16 is None:
            self._bulk_bfloat16 = self._precision == "bfloat16" or (
                self._precision == "auto" and native_bfloat16())
        return "bfloat16" if self._bulk_bfloat16 else "float32"

    @contextlib.contextmanager
    def _precision_for(self, n_texts: int) -> Iterator[None]:
        if n_texts < BULK_MIN or self.bulk_precision == "float32":
            yield
            return
        import torch

        with torch.autocast("cpu", dtype=torch.bfloat16):
            yield

    def embed(self, texts: Sequence[str]) -> Vectors:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._precision_for(len(texts)):
            vectors = model.encode(  # type: ignore[attr-defined]
                list(texts),
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        if len(texts) >= BULK_MIN:
            _trim_heap()
        return np.ascontiguousarray(vectors, dtype=np.float32)
