"""``python -m models.inference_server``: llama.cpp's OpenAI-compatible server (the
``llama_cpp.server`` of llama-cpp-python, unchanged) started the way Vraagbaak loads a model.

Three things differ from ``python -m llama_cpp.server``; the first two for the same reasons as
the in-process backend (``models.llm.LlamaCppLLM``):

* ``--model smollm2`` (or any name ``models.registry.resolve_gguf`` knows) names the GGUF shipped
  in its PyPI package; a path works as before. Nothing is downloaded.
* llama.cpp's extra buffer types (CPU weight repacking, the AMX kernels) are off unless
  ``VRAAGBAAK_LLM__EXTRA_BUFFER_TYPES=true``: on a Xeon with AMX the stock server dies on its
  first completion (an empty reply, the process gone), measured here on 2026-12-01.

* ``--interrupt_requests`` is off unless given: llama_cpp.server's default (on) ends the stream
  in flight, as if it were complete, whenever another request waits for the model. With two
  Vraagbaak replicas sharing the server that cut answers short at their first tokens
  (``bench.chat_replicas``: 1 of 24 answers under load had a first token); off, the waiting
  request waits its turn.

Every other option is llama_cpp.server's own (``--help``); set ``--n_threads`` and
``--n_threads_batch`` to the cores the server may use. Point Vraagbaak at it with
``VRAAGBAAK_LLM__BACKEND=openai`` and ``VRAAGBAAK_LLM__BASE_URL=http://HOST:PORT/v1``.
"""

from __future__ import annotations

import os
import sys

from models.errors import ModelNotFound
from models.llm import _model_defaults
from models.registry import resolve_gguf


def _resolved(argv: list[str]) -> list[str]:
    """``argv`` with a ``--model NAME`` resolved to its local file (paths pass through), and
    ``--interrupt_requests False`` unless it says otherwise."""
    out = list(argv)
    if not any(arg.startswith("--interrupt_requests") for arg in out):
        out += ["--interrupt_requests", "False"]
    for i, arg in enumerate(out):
        if arg == "--model" and i + 1 < len(out):
            out[i + 1] = str(resolve_gguf(out[i + 1]))
        elif arg.startswith("--model="):
            out[i] = "--model=" + str(resolve_gguf(arg.split("=", 1)[1]))
    return out


def main() -> None:
    from llama_cpp.server.__main__ import main as serve

    try:
        sys.argv = [sys.argv[0], *_resolved(sys.argv[1:])]
    except ModelNotFound as exc:  # one clean line, as every Vraagbaak command fails
        sys.exit(f"error: {exc}")
    extra = os.environ.get("VRAAGBAAK_LLM__EXTRA_BUFFER_TYPES", "false").lower() in (
        "1", "true", "yes", "on")
    with _model_defaults(use_extra_bufts=extra):
        serve()  # type: ignore[no-untyped-call]  # llama_cpp.server's main() is untyped


if __name__ == "__main__":
    main()
