"""Test doubles that are real implementations of the backend Protocols (no mocks).

``FakeEmbedder`` hashes stemmed words into a small vector space: deterministic, instant, and
similar texts really are similar. ``FakeLLM`` replays canned replies, records every prompt, and
can be held on a gate to simulate a long generation.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Sequence

import numpy as np

from ingest.lexical import tokenize
from models.embedder import Vectors
from models.llm import Messages


class FakeEmbedder:
    def __init__(self, dimension: int = 64, model_id: str = "fake-embedder") -> None:
        self._dimension = dimension
        self._model_id = model_id
        self.calls = 0

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.calls += 1
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for i, tokens in enumerate(tokenize(list(texts), "en")):
            for tok in tokens:
                h = int.from_bytes(hashlib.md5(tok.encode()).digest()[:4], "little")
                out[i, h % self._dimension] += 1.0
            out[i, -1] += 0.01  # no all-zero rows
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out


class FakeLLM:
    def __init__(self, replies: Sequence[str] = ("I don't know.",), *,
                 gate: threading.Event | None = None) -> None:
        self.replies = list(replies)
        self.prompts: list[Messages] = []
        self.stops: list[tuple[str, ...]] = []
        self.max_tokens: list[int] = []
        self.gate = gate
        self.started = threading.Event()

    @property
    def model_id(self) -> str:
        return "fake-llm"

    def stream_chat(self, messages: Messages, *, max_tokens: int,
                    stop: Sequence[str] = ()) -> Iterator[str]:
        self.prompts.append(messages)
        self.stops.append(tuple(stop))
        self.max_tokens.append(max_tokens)
        self.started.set()
        if self.gate is not None:
            self.gate.wait(timeout=30)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        for word in reply.split(" "):
            yield word + " "


class EchoLLM(FakeLLM):
    """Answers with the whole prompt it was given, so anything that reaches the prompt also
    reaches the response: the strictest stand-in for a model that repeats its context."""

    def stream_chat(self, messages: Messages, *, max_tokens: int,
                    stop: Sequence[str] = ()) -> Iterator[str]:
        self.replies = [" ".join(m["content"] for m in messages) + " [1]"]
        return super().stream_chat(messages, max_tokens=max_tokens, stop=stop)
