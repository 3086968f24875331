"""``AnswerService.stream``, the one answering path: tokens then the stored ``Answer``; refusals
without the LLM; and every cited chunk grounded in its own collection's language."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import anyio
import pytest

from app.answering.records import Answer
from app.answering.streaming import TokenEvent
from app.core.principal import Principal
from app.core.settings import RetrievalSettings, Settings
from app.wiring import Services, build_services
from models.fakes import FakeEmbedder, FakeLLM
from models.llm import Messages
from tests.conftest import write_kb

OPERATOR = Principal.operator()
DUTCH = {"retour.md": "# Retourbeleid\n\nRetourzendingen worden binnen 14 dagen verwerkt.\n"}
# supported by the Dutch chunk under Dutch stemming and stop words, not under English ones
DUTCH_REPLY = "Wij verwerken je retourzending altijd binnen 14 dagen"


class CitingLLM(FakeLLM):
    """Cites whichever prompt document holds the Dutch policy, wherever retrieval put it."""

    def stream_chat(self, messages: Messages, *, max_tokens: int,
                    stop: Sequence[str] = ()) -> Iterator[str]:
        documents = re.findall(r'<document number="(\d+)"([^<]*)', messages[-1]["content"])
        [n] = [n for n, body in documents if "Retourzendingen" in body]
        self.replies = [f"{DUTCH_REPLY} [{n}]."]
        return super().stream_chat(messages, max_tokens=max_tokens, stop=stop)


def test_stream_yields_the_tokens_then_the_stored_answer(indexed: Services) -> None:
    events = list(indexed.answers.stream("What does VPN error NWL-VPN-809 mean?", ["kb"],
                                         allowed={"kb"}, asker=OPERATOR))
    *tokens, final = events
    assert tokens and all(isinstance(t, TokenEvent) for t in tokens)
    assert isinstance(final, Answer) and not final.refused
    assert "NWL-VPN-809" in "".join(t.text for t in tokens if isinstance(t, TokenEvent))
    assert final.citations[0].document == "vpn.md"
    stored = indexed.answers.get(final.answer_id, readable={"kb"}, viewer=OPERATOR)
    assert stored.answer == final.answer and stored.channel == "chat"
    assert isinstance(stored.latency_ms["tokens"], int)


def test_a_refusal_streams_only_its_answer_and_never_asks_the_llm(
        indexed: Services, fake_llm: FakeLLM) -> None:
    answering = indexed.answers.stream("capital of Peru?", ["kb"], allowed={"kb"},
                                       asker=OPERATOR)
    assert answering.refused and answering.tokens is None
    [final] = list(answering)
    assert isinstance(final, Answer) and final.refused and final.citations == []
    assert fake_llm.prompts == []
    with pytest.raises(RuntimeError):
        answering.result()  # consumed once: a second pass would store a second answer


def test_a_consumer_that_stops_early_cancels_the_generation(indexed: Services) -> None:
    answering = indexed.answers.stream("VPN error NWL-VPN-809", ["kb"], allowed={"kb"},
                                       asker=OPERATOR)
    events = iter(answering)
    assert isinstance(next(events), TokenEvent)
    events.close()  # the client went away
    assert answering.tokens is not None and answering.tokens.cancelled.is_set()


def test_the_async_iteration_ends_with_the_same_answer(indexed: Services) -> None:
    answering = indexed.answers.stream("VPN error NWL-VPN-809", [], allowed={"kb"},
                                       asker=OPERATOR, channel="cli")
    final = anyio.run(answering.aresult)
    assert final.citations[0].document == "vpn.md"
    assert indexed.answers.get(final.answer_id, readable={"kb"},
                               viewer=OPERATOR).channel == "cli"


def test_each_citation_is_grounded_in_its_own_collections_language(tmp_path: Path,
                                                                   kb: Path) -> None:
    """Over ``kb`` (English) and ``nl`` (Dutch), the Dutch chunk is checked with Dutch rules,
    though ``kb`` sorts first (it used to decide the language of the whole answer)."""
    llm = CitingLLM()
    settings = Settings(data_dir=tmp_path / "d", retrieval=RetrievalSettings(min_dense_score=0))
    services = build_services(settings, embedder=FakeEmbedder(), llm=llm)
    try:
        services.collections.upsert("kb", kb, "en")
        services.collections.upsert("nl", write_kb(tmp_path / "nl", DUTCH), "nl")
        services.indexer.sync("kb")
        services.indexer.sync("nl")
        final = services.answers.answer("retourzendingen printer", ["kb", "nl"],
                                        allowed={"kb", "nl"}, asker=OPERATOR)
        hits = services.search.search("retourzendingen printer", ["kb", "nl"],
                                      allowed={"kb", "nl"}).hits
    finally:
        services.close()
    assert {h.collection: h.language for h in hits} == {"kb": "en", "nl": "nl"}
    # the model's sentence, checked in Dutch against the Dutch chunk it cites (the shown
    # answer leads with a quoted sentence besides)
    [sentence] = [s for s in final.sentences if s.source == "generated"]
    assert sentence.supported and not sentence.inferred and sentence.shown, sentence
    [citation] = [c for c in final.citations if c.n == sentence.citations[0]]
    assert citation.collection == "nl" and citation.document == "retour.md"
