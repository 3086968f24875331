"""LLM backends: llama.cpp in-process (default) and any OpenAI-compatible server.

Both stream text pieces for a list of chat messages. Neither is thread-safe by contract: the
service drives them from its single LLM worker thread (app/answering/llm_worker.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import httpx

from models.errors import ModelUnavailable
from models.registry import resolve_gguf

Messages = list[dict[str, str]]


class LLMProtocol(Protocol):
    @property
    def model_id(self) -> str:
        """Recorded on every answer, e.g. ``llamacpp:SmolLM2-135M-Instruct.Q4_1.gguf``."""
        ...

    def stream_chat(self, messages: Messages, *, max_tokens: int,
                    stop: Sequence[str] = ()) -> Iterator[str]:
        """Text pieces of the assistant's reply, in order, ending before any ``stop``."""
        ...


_DEFAULTS_LOCK = threading.Lock()


@contextmanager
def _model_defaults(**fields: Any) -> Iterator[None]:
    """Let ``Llama()`` start from llama.cpp's default model parameters with ``fields`` set."""
    import llama_cpp.llama_cpp as low

    with _DEFAULTS_LOCK:
        original = low.llama_model_default_params

        def adjusted() -> Any:
            params = original()
            for name, value in fields.items():
                setattr(params, name, value)
            return params

        low.llama_model_default_params = adjusted
        try:
            yield
        finally:
            low.llama_model_default_params = original


class LlamaCppLLM:
    """A local GGUF model through llama-cpp-python, loaded on first use.

    ``n_threads_batch`` is set explicitly: its default oversubscribes small machines.
    Decoding is greedy (temperature 0) so answers are reproducible.

    ``extra_buffer_types`` is llama.cpp's ``use_extra_bufts`` (CPU weight repacking and the
    AMX matmul kernels). It is off by default: on a Xeon with AMX, a native build's
    ``ggml_backend_amx_mul_mat`` segfaulted on the first decode (seen on this project's
    machines; README, Known limits), and the smaller default model gains nothing from
    repacking. llama-cpp-python doesn't expose the field, so the default model parameters are
    adjusted for the duration of the load, under a lock.
    """

    def __init__(self, model: str, *, context_tokens: int = 4096, threads: int = 2,
                 extra_buffer_types: bool = False) -> None:
        self._path: Path = resolve_gguf(model)
        self._context_tokens = context_tokens
        self._threads = threads
        self._extra_buffer_types = extra_buffer_types
        self._llama: Any = None
        # prompt tokens llama.cpp evaluated for the last answer: a prompt that starts like
        # the one before it (the same system text) reuses that prefix's state from the KV
        # cache, and only the rest is evaluated (llama-cpp-python keeps the longest common
        # prefix of consecutive prompts)
        self.last_prompt_tokens: int | None = None

    @property
    def model_id(self) -> str:
        return f"llamacpp:{self._path.name}"

    def load(self) -> None:
        if self._llama is None:
            from llama_cpp import Llama

            with _model_defaults(use_extra_bufts=self._extra_buffer_types):
                self._llama = Llama(
                    model_path=str(self._path),
                    n_ctx=self._context_tokens,
                    n_threads=self._threads,
                    n_threads_batch=self._threads,
                    verbose=False,
                )

    def stream_chat(self, messages: Messages, *, max_tokens: int,
                    stop: Sequence[str] = ()) -> Iterator[str]:
        self.load()
        import llama_cpp

        context = self._llama._ctx.ctx
        llama_cpp.llama_perf_context_reset(context)
        self.last_prompt_tokens = None
        try:
            stream = self._llama.create_chat_completion(
                messages=messages,
                max_tokens=max_tokens,
                temperature=0.0,
                repeat_penalty=1.1,
                stop=list(stop) or None,
                stream=True,
            )
            for part in stream:
                text = part["choices"][0].get("delta", {}).get("content")
                if text:
                    yield text
            self.last_prompt_tokens = int(llama_cpp.llama_perf_context(context).n_p_eval)
        except ValueError as exc:  # e.g. prompt longer than the context window
            raise ModelUnavailable(f"the model could not process the prompt: {exc}") from None


CONNECT_TIMEOUT_S = 5.0
CONNECT_RETRIES = 2


class OpenAICompatibleLLM:
    """Any server speaking the OpenAI chat completions API (llama.cpp server, vLLM, Ollama)."""

    def __init__(self, base_url: str, model: str, *, api_key: str = "",
                 timeout_s: float = 120.0, transport: httpx.BaseTransport | None = None) -> None:
        if not base_url:
            raise ModelUnavailable("the openai LLM backend needs VRAAGBAAK_LLM__BASE_URL")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # a refused or reset connection is retried (twice, by httpx) before anything was
        # sent; a slow answer is not: ``timeout_s`` bounds the wait for each next byte, so a
        # hung server is a 503 after that long, never a request that hangs
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, CONNECT_TIMEOUT_S)),
            transport=transport or httpx.HTTPTransport(retries=CONNECT_RETRIES))
        self._model = model

    @property
    def model_id(self) -> str:
        return f"openai:{self._model}"

    def stream_chat(self, messages: Messages, *, max_tokens: int,
                    stop: Sequence[str] = ()) -> Iterator[str]:
        body: dict[str, Any] = {"model": self._model, "messages": messages,
                                "max_tokens": max_tokens, "temperature": 0.0, "stream": True}
        if stop:
            body["stop"] = list(stop)[:4]  # the OpenAI API accepts at most four
        try:
            with self._client.stream("POST", "/chat/completions", json=body) as response:
                if response.status_code != 200:
                    raise ModelUnavailable(
                        f"the inference server answered HTTP {response.status_code}"
                    )
                finished = False
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    choices = json.loads(data).get("choices") or [{}]
                    text = (choices[0].get("delta") or {}).get("content")
                    finished = finished or bool(choices[0].get("finish_reason"))
                    if text:
                        yield text
                if not finished:
                    # a stream cut short (a server that interrupts one request for the next,
                    # a proxy timeout) would otherwise read as a complete, shorter answer
                    raise ModelUnavailable("the inference server ended the answer before it "
                                           "was finished (no finish_reason)")
        except httpx.HTTPError as exc:
            raise ModelUnavailable(
                f"the inference server is unreachable ({type(exc).__name__})"
            ) from None

    def close(self) -> None:
        self._client.close()
