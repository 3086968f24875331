from dataclasses import replace

from app.answering.grounding import Embedders, clean_citations, ground, is_supported
from app.knowledge.search import Hit
from models.embedder import EmbedderProtocol
from models.fakes import FakeEmbedder


def one(embedder: EmbedderProtocol) -> Embedders:
    """Every collection on the same model."""
    return lambda _setting: embedder


def _hit(text: str, n: int = 0, heading: str = "") -> Hit:
    return Hit(chunk_id=f"c{n}", score=1.0, text=text, collection="kb", document=f"d{n}.md",
               title="T", heading=heading, page=None, dense_score=0.9, lexical_score=1.0)


CHUNKS = [
    _hit("Attachments over 25 MB are refused. The mailbox limit is 50 GB.", 1),
    _hit("VPN error NWL-VPN-809 means the device certificate expired.", 2),
]


def test_markers_outside_the_context_are_removed() -> None:
    text, dropped = clean_citations("Yes [1]. No [3]. Both [1, 7].", valid=2)
    assert text == "Yes [1]. No. Both [1]."
    assert dropped == [3, 7]


def test_invented_number_is_not_supported() -> None:
    assert is_supported("Attachments over 25 MB are refused.", [CHUNKS[0].text])
    assert not is_supported("Attachments over 30 MB are refused.", [CHUNKS[0].text])
    assert not is_supported("The VPN uses port 443.", [CHUNKS[1].text])


def test_sentences_are_checked_against_their_own_citation() -> None:
    result = ground("The mailbox limit is 50 GB [1]. Error NWL-VPN-809 means the device "
                    "certificate expired [1].", "limits?", CHUNKS, one(FakeEmbedder()))
    assert [s.supported for s in result.sentences] == [True, False]  # 2nd cites wrong chunk


def test_uncited_supported_sentence_gets_an_inferred_citation() -> None:
    result = ground("NWL-VPN-809 means the device certificate expired.", "vpn 809?", CHUNKS,
                    one(FakeEmbedder()))
    [sentence] = result.sentences
    assert sentence.supported and sentence.inferred and sentence.citations == [2]
    assert [(c.n, c.inferred) for c in result.citations] == [(2, True)]
    assert "NWL-VPN-809" in result.citations[0].quote


def test_unsupported_answer_still_shows_the_best_evidence() -> None:
    result = ground("It is probably a firewall problem.", "What does NWL-VPN-809 mean?",
                    CHUNKS, one(FakeEmbedder()))
    assert not result.sentences[0].supported
    assert [(c.n, c.inferred) for c in result.citations] == [(2, True)]


def test_each_citation_quotes_its_own_chunk_from_one_embedding_call() -> None:
    chunks = [
        _hit("Mail is archived after a year. Attachments over 25 MB are refused by the outgoing "
             "mail gateway. Shared mailboxes need a ticket.", 1),
        _hit("Restart the client first. VPN error NWL-VPN-809 means that the device "
             "certificate has expired. Call the service desk if it persists.", 2,
             heading="VPN errors"),
    ]
    embedder = FakeEmbedder()
    result = ground("Attachments over 25 MB are refused [1]. NWL-VPN-809 means the device "
                    "certificate expired [2].", "What do NWL-VPN-809 and the 25 MB limit mean?",
                    chunks, one(embedder))
    quotes = {c.n: c.quote for c in result.citations}
    assert quotes == {1: "Attachments over 25 MB are refused by the outgoing mail gateway.",
                      2: "VPN error NWL-VPN-809 means that the device certificate has expired."}
    assert embedder.calls == 1


def test_a_chunk_is_checked_in_its_own_collections_language() -> None:
    dutch = Hit(chunk_id="nl1", score=1.0, collection="nl", document="retour.md",
                title="Retourbeleid", heading="Retourbeleid", page=None, dense_score=0.9,
                lexical_score=1.0, language="nl",
                text="Retourzendingen worden binnen 14 dagen verwerkt.")
    reply = "Wij verwerken je retourzending altijd binnen 14 dagen [2]."
    as_dutch = ground(reply, "retour?", [CHUNKS[0], dutch], one(FakeEmbedder()))
    assert [s.supported for s in as_dutch.sentences] == [True]
    as_english = ground(reply, "retour?", [CHUNKS[0], replace(dutch, language="en")],
                        one(FakeEmbedder()))
    assert [s.supported for s in as_english.sentences] == [False]  # Dutch under English rules


def test_each_collections_model_quotes_its_own_chunks() -> None:
    default, multilingual = FakeEmbedder(), FakeEmbedder(dimension=32, model_id="multi")
    dutch = replace(CHUNKS[1], chunk_id="nl1", collection="nl", embedder="/models/multi",
                    language="nl")
    models = {None: default, "/models/multi": multilingual}
    result = ground("Attachments over 25 MB are refused [1]. NWL-VPN-809 means the device "
                    "certificate expired [2].", "limits?", [CHUNKS[0], dutch], models.__getitem__)
    assert [c.n for c in result.citations] == [1, 2]
    assert (default.calls, multilingual.calls) == (1, 1)  # one batch per model
