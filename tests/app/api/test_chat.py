import json
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from fastapi.testclient import TestClient

from app.core.settings import LLMSettings, RetrievalSettings, Settings
from app.main import create_app
from app.wiring import Services
from models.errors import ModelError
from models.fakes import FakeEmbedder, FakeLLM
from models.llm import Messages
from tests.access import sign_in


def _sse(text: str) -> list[tuple[str, str]]:
    events, name = [], "message"
    for line in text.splitlines():
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            events.append((name, line[5:].strip()))
            name = "message"
    return events


def test_chat_returns_checked_citations_and_stores_the_answer(client: TestClient,
                                                                fake_llm: FakeLLM) -> None:
    r = client.post("/v1/chat", json={"question": "What does VPN error NWL-VPN-809 mean?",
                                      "collections": ["kb"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert not body["refused"]
    assert body["citations"][0]["document"] == "vpn.md"
    assert "NWL-VPN-809" in body["citations"][0]["quote"]
    # evidence first: the documented sentence (and the line after it) lead; the model's
    # sentence says the same and is kept in the record, not shown
    lead = {"supported": True, "citations": [1], "inferred": False, "source": "quoted",
            "shown": True, "why_hidden": ""}
    assert body["sentences"] == [
        {"text": "VPN error NWL-VPN-809 means the device certificate expired."} | lead,
        {"text": "Reconnect on the office network to renew it."} | lead,
        {"text": "VPN error NWL-VPN-809 means the device certificate expired.",
         "supported": True, "citations": [1], "inferred": False, "source": "generated",
         "shown": False, "why_hidden": "repeats the documented sentence"}]
    assert body["generated"].strip() == ("VPN error NWL-VPN-809 means the device certificate "
                                        "expired [1].")
    # the documents went into the prompt as delimited data
    assert '<document number="1"' in fake_llm.prompts[0][1]["content"]
    stored = client.get(f"/v1/answers/{body['answer_id']}").json()
    assert stored["question"].startswith("What does VPN")
    assert stored["prompt"] == "answer@2" and stored["model"] == "fake-llm"
    assert stored["retrieved"] and stored["snapshot_ids"]["kb"]


def test_citation_to_a_chunk_that_was_not_retrieved_is_dropped(settings: Settings,
                                                               kb: Path) -> None:
    llm = FakeLLM(["The certificate expired [1]. Call 555-0000 [9]."])
    with TestClient(create_app(settings, embedder=FakeEmbedder(), llm=llm)) as c:
        services: Services = sign_in(c)
        services.collections.upsert("kb", kb, "en")
        services.indexer.sync("kb")
        body = c.post("/v1/chat", json={"question": "VPN error NWL-VPN-809"}).json()
    assert "[9]" not in body["answer"]
    assert [c["n"] for c in body["citations"]] == [1]
    unsupported = [s for s in body["sentences"] if not s["supported"]]
    assert unsupported and "555-0000" in unsupported[0]["text"]


def test_irrelevant_question_is_refused_without_asking_the_llm(client: TestClient,
                                                                fake_llm: FakeLLM) -> None:
    r = client.post("/v1/chat", json={"question": "capital of Peru?", "collections": ["kb"]})
    body = r.json()
    assert body["refused"] and body["citations"] == [] and "don't know" in body["answer"]
    assert fake_llm.prompts == []


def test_chat_stream_sends_tokens_then_the_final_answer(client: TestClient) -> None:
    r = client.post("/v1/chat", json={"question": "VPN error NWL-VPN-809", "stream": True})
    assert r.status_code == 200
    events = _sse(r.text)
    assert events[0][0] == "token"
    assert events[-1][0] == "answer"
    final = json.loads(events[-1][1])
    tokens = "".join(json.loads(d)["text"] for e, d in events if e == "token")
    assert "NWL-VPN-809" in tokens and final["citations"][0]["document"] == "vpn.md"


def test_openai_compatible_endpoint(client: TestClient) -> None:
    msg = [{"role": "user", "content": "VPN error NWL-VPN-809?"}]
    body = client.post("/v1/chat/completions", json={"model": "x", "messages": msg}).json()
    assert body["object"] == "chat.completion"
    assert "NWL-VPN-809" in body["choices"][0]["message"]["content"]
    assert body["citations"][0]["document"] == "vpn.md"
    r = client.post("/v1/chat/completions", json={"messages": msg, "stream": True})
    datas = [d for _e, d in _sse(r.text)]
    assert datas[-1] == "[DONE]"
    last = json.loads(datas[-2])
    assert last["choices"][0]["finish_reason"] == "stop" and last["citations"]


def test_full_queue_answers_503_at_once_while_health_and_search_stay_fast(
        tmp_path: Path, kb: Path) -> None:
    gate = threading.Event()
    llm = FakeLLM(["The certificate expired [1]."], gate=gate)
    settings = Settings(data_dir=tmp_path / "d", llm=LLMSettings(queue_size=1),
                        retrieval=RetrievalSettings(min_dense_score=0.2))
    with TestClient(create_app(settings, embedder=FakeEmbedder(), llm=llm)) as c:
        services: Services = sign_in(c)
        services.collections.upsert("kb", kb, "en")
        services.indexer.sync("kb")
        q = {"question": "VPN error NWL-VPN-809"}
        results: list[int] = []
        threads = [threading.Thread(target=lambda: results.append(
            c.post("/v1/chat", json=q).status_code)) for _ in range(2)]
        threads[0].start()
        assert llm.started.wait(10)  # one generating
        threads[1].start()  # one waiting in the queue (size 1)
        for _ in range(100):
            if services.worker.waiting == 1:
                break
            threading.Event().wait(0.02)
        busy = c.post("/v1/chat", json=q)
        assert busy.status_code == 503
        assert busy.headers["Retry-After"].isdigit()
        assert busy.json()["error"]["code"] == "busy"
        assert c.get("/healthz").status_code == 200
        assert c.get("/v1/search", params={"q": "printer"}).status_code == 200
        gate.set()
        for t in threads:
            t.join(10)
        assert results == [200, 200]


def test_question_about_an_unknown_code_is_refused(client: TestClient,
                                                   fake_llm: FakeLLM) -> None:
    body = client.post("/v1/chat", json={"question": "What does VPN error NWL-VPN-555 mean?"})
    assert body.json()["refused"]
    assert "NWL-VPN-555" in body.json()["answer"] and fake_llm.prompts == []
    known = client.post("/v1/chat", json={"question": "What does VPN error NWL-VPN-809 mean?"})
    assert not known.json()["refused"]


class FailingLLM(FakeLLM):
    """Writes a few words, then the model process dies."""

    def stream_chat(self, messages: Messages, *, max_tokens: int,
                    stop: Sequence[str] = ()) -> Iterator[str]:
        yield from ("VPN ", "error ")
        raise ModelError("the model server went away")


def test_an_error_mid_stream_becomes_an_error_event(settings: Settings, kb: Path) -> None:
    with TestClient(create_app(settings, embedder=FakeEmbedder(), llm=FailingLLM())) as c:
        services: Services = sign_in(c)
        services.collections.upsert("kb", kb, "en")
        services.indexer.sync("kb")
        q = {"question": "VPN error NWL-VPN-809"}
        events = _sse(c.post("/v1/chat", json=q | {"stream": True}).text)
        msg = [{"role": "user", "content": q["question"]}]
        datas = [d for _e, d in _sse(c.post("/v1/chat/completions",
                                            json={"messages": msg, "stream": True}).text)]
        whole = c.post("/v1/chat", json=q)
    assert [e for e, _d in events] == ["token", "token", "error"]
    assert json.loads(events[-1][1])["error"]["code"] == "llm_unavailable"
    assert datas[-1] == "[DONE]" and json.loads(datas[-2])["error"]["code"] == "llm_unavailable"
    assert whole.status_code == 503 and whole.json()["error"]["code"] == "llm_unavailable"
