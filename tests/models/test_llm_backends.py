import json

import httpx
import pytest

from models.errors import ModelNotFound, ModelUnavailable
from models.llm import LlamaCppLLM, OpenAICompatibleLLM
from models.registry import resolve_embedder, resolve_gguf


def _server(requests: list[dict], *, finish: bool = True) -> httpx.MockTransport:  # type: ignore[type-arg]
    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(json.loads(request.content))
        chunks: list[dict[str, object]] = [
            {"choices": [{"delta": {"content": t}, "finish_reason": None}]}
            for t in ("Hello", " world")]
        if finish:
            chunks.append({"choices": [{"delta": {}, "finish_reason": "stop"}]})
        body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})
    return httpx.MockTransport(handler)


def test_openai_backend_streams_and_passes_stop() -> None:
    seen: list[dict] = []  # type: ignore[type-arg]
    llm = OpenAICompatibleLLM("http://inference.local/v1", "qwen", transport=_server(seen))
    out = list(llm.stream_chat([{"role": "user", "content": "hi"}], max_tokens=5,
                               stop=["<document"]))
    assert out == ["Hello", " world"]
    assert seen[0]["stop"] == ["<document"] and seen[0]["model"] == "qwen"
    assert llm.model_id == "openai:qwen"


def test_a_stream_cut_short_is_model_unavailable_not_a_shorter_answer() -> None:
    llm = OpenAICompatibleLLM("http://inference.local/v1", "m", transport=_server([],
                                                                                 finish=False))
    with pytest.raises(ModelUnavailable, match="before it was finished"):
        list(llm.stream_chat([{"role": "user", "content": "hi"}], max_tokens=5))


def test_openai_backend_errors_are_model_unavailable() -> None:
    down = OpenAICompatibleLLM("http://inference.local/v1", "m", transport=httpx.MockTransport(
        lambda r: httpx.Response(500)))
    with pytest.raises(ModelUnavailable, match="HTTP 500"):
        list(down.stream_chat([], max_tokens=1))
    with pytest.raises(ModelUnavailable):
        OpenAICompatibleLLM("", "m")


def test_models_resolve_from_installed_packages_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert (resolve_embedder("all-MiniLM-L6-v2") / "modules.json").exists()
    assert resolve_gguf("smollm2").name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    with pytest.raises(ModelNotFound):
        resolve_embedder("sentence-transformers/all-mpnet-base-v2")  # a hub name: refused
    with pytest.raises(ModelNotFound):
        LlamaCppLLM(str(tmp_path / "missing.gguf"))


def test_llama_model_defaults_are_adjusted_only_during_a_load() -> None:
    import llama_cpp.llama_cpp as low

    from models.llm import _model_defaults

    original = low.llama_model_default_params
    assert original().use_extra_bufts is True  # llama.cpp's default: AMX/repack kernels on
    with _model_defaults(use_extra_bufts=False):
        assert low.llama_model_default_params().use_extra_bufts is False
    assert low.llama_model_default_params is original
