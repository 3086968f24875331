"""One answer in flight: its tokens as they come, then the grounded, stored ``Answer``.

``AnswerService.stream`` retrieves, decides on refusal and queues the generation before it
returns one of these, so everything that can fail up front (an unknown collection, a full
LLM queue) fails before a caller has sent a byte. What is left is iteration, the same for
every front door: ``for`` in the CLI, drafts and eval runs, ``async for`` in the SSE routes
(the tokens are awaited off the event loop, grounding and storing run in a worker thread).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio.to_thread

from app.answering.llm_worker import TokenStream
from app.answering.records import Answer

if TYPE_CHECKING:
    from app.answering.service import Prepared


@dataclass(frozen=True)
class TokenEvent:
    """A piece of generated text, as the model produced it (before any grounding)."""

    text: str


AnswerEvent = TokenEvent | Answer


class AnswerStream:
    """``TokenEvent``s, then exactly one ``Answer``; consumed once, sync or async.

    A refusal yields its ``Answer`` at once: no tokens, and the model was never asked. A
    generation error (``Unavailable``) is raised from the iteration, mid-stream; nothing is
    stored then. A consumer that stops early (a client gone) cancels the generation, so the
    worker moves on to the next question.
    """

    def __init__(self, prepared: Prepared, tokens: TokenStream | None,
                 finish: Callable[[str], Answer]) -> None:
        self.prepared = prepared
        self.tokens = tokens  # None for a refusal; its timestamps are the latency figures
        self._finish = finish
        self._consumed = False

    @property
    def refused(self) -> bool:
        return self.prepared.refused

    def _claim(self) -> None:
        if self._consumed:
            raise RuntimeError("an answer stream can be consumed only once")
        self._consumed = True

    def _cancel(self) -> None:
        if self.tokens is not None:
            self.tokens.cancel()  # a no-op once generation has ended

    def __iter__(self) -> Generator[AnswerEvent, None, None]:
        self._claim()
        parts: list[str] = []
        try:
            for text in self.tokens or ():
                parts.append(text)
                yield TokenEvent(text)
        finally:
            self._cancel()
        yield self._finish("".join(parts))

    async def __aiter__(self) -> AsyncGenerator[AnswerEvent, None]:
        self._claim()
        parts: list[str] = []
        try:
            if self.tokens is not None:
                async for text in self.tokens:
                    parts.append(text)
                    yield TokenEvent(text)
        finally:
            self._cancel()
        yield await anyio.to_thread.run_sync(self._finish, "".join(parts))

    def result(self) -> Answer:
        """Wait for the whole answer (tokens are collected, not shown)."""
        return _last([event for event in self])

    async def aresult(self) -> Answer:
        """``result`` for async code: the event loop keeps serving while the model writes."""
        return _last([event async for event in self])


def _last(events: list[AnswerEvent]) -> Answer:
    final = events[-1]
    assert isinstance(final, Answer), "an answer stream ends with its answer"
    return final
