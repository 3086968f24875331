"""One LLM worker thread per process, fed through a bounded queue.

llama.cpp is not thread-safe, and two generations on two cores would only slow each other
down, so exactly one thread ever calls the model. ``submit`` never blocks: when the queue is
full it raises ``Busy`` at once (the API answers 503 with Retry-After) instead of piling up
requests. Health, search and everything else keep running on other threads meanwhile.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import anyio.to_thread

from app.core.errors import Busy, Unavailable
from models.errors import ModelError
from models.llm import LLMProtocol, Messages

_END = object()


@dataclass
class TokenStream:
    """Tokens of one generation, consumable from sync or async code; ``cancel`` stops it."""

    messages: Messages
    max_tokens: int
    stop: tuple[str, ...] = ()
    _tokens: queue.SimpleQueue[object] = field(default_factory=queue.SimpleQueue)
    cancelled: threading.Event = field(default_factory=threading.Event)
    submitted_at: float = field(default_factory=time.perf_counter)
    started_at: float | None = None
    first_token_at: float | None = None
    finished_at: float | None = None
    token_count: int = 0
    prompt_tokens: int | None = None  # evaluated for this answer (a reused prefix is not)

    def cancel(self) -> None:
        self.cancelled.set()

    def _next(self) -> object:
        item = self._tokens.get()
        if isinstance(item, Exception):
            raise item
        return item

    def __iter__(self) -> Iterator[str]:
        while (item := self._next()) is not _END:
            yield str(item)

    async def __aiter__(self) -> AsyncIterator[str]:
        try:
            while (item := await anyio.to_thread.run_sync(self._next)) is not _END:
                yield str(item)
        finally:
            self.cancel()  # a client that went away frees the worker


class LLMWorker:
    def __init__(self, llm: LLMProtocol, *, queue_size: int, retry_after_s: int = 10) -> None:
        self.llm = llm
        self._queue: queue.Queue[TokenStream | None] = queue.Queue(maxsize=queue_size)
        self._retry_after = retry_after_s
        self._thread: threading.Thread | None = None
        self.busy = threading.Event()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="llm-worker", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    def submit(self, messages: Messages, *, max_tokens: int,
               stop: tuple[str, ...] = ()) -> TokenStream:
        self.start()
        stream = TokenStream(messages, max_tokens, stop)
        try:
            self._queue.put_nowait(stream)
        except queue.Full:
            raise Busy(
                "the answer queue is full; try again shortly", retry_after=self._retry_after
            ) from None
        return stream

    def _run(self) -> None:
        while (stream := self._queue.get()) is not None:
            if stream.cancelled.is_set():
                stream._tokens.put(_END)
                continue
            self.busy.set()
            stream.started_at = time.perf_counter()
            try:
                for text in self.llm.stream_chat(stream.messages, max_tokens=stream.max_tokens,
                                                 stop=stream.stop):
                    if stream.first_token_at is None:
                        stream.first_token_at = time.perf_counter()
                    stream.token_count += 1
                    stream._tokens.put(text)
                    if stream.cancelled.is_set():
                        break
                stream.prompt_tokens = getattr(self.llm, "last_prompt_tokens", None)
                stream._tokens.put(_END)
            except ModelError as exc:
                stream._tokens.put(Unavailable(str(exc), code="llm_unavailable"))
            except Exception as exc:  # never let one request kill the worker
                stream._tokens.put(
                    Unavailable(f"the model failed ({type(exc).__name__})", code="llm_failed")
                )
            finally:
                stream.finished_at = time.perf_counter()
                self.busy.clear()
