from app.answering.grounding import clean_citations, ground, is_supported
from app.knowledge.search import Hit
from models.fakes import FakeEmbedder


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
                    "certificate expired [1].", "limits?", CHUNKS, FakeEmbedder())
    assert [s.supported for s in result.sentences] == [True, False]  # 2nd cites wrong chunk


def test_uncited_supported_sentence_gets_an_inferred_citation() -> None:
    result = ground("NWL-VPN-809 means the device certificate expired.", "vpn 809?", CHUNKS,
                    FakeEmbedder())
    [sentence] = result.sentences
    assert sentence.supported and sentence.inferred and sentence.citations == [2]
    assert [(c.n, c.inferred) for c in result.citations] == [(2, True)]
    assert "NWL-VPN-809" in result.citations[0].quote


def test_unsupported_answer_still_shows_the_best_evidence() -> None:
    result = ground("It is probably a firewall problem.", "What does NWL-VPN-809 mean?",
                    CHUNKS, FakeEmbedder())
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
                    chunks, embedder)
    quotes = {c.n: c.quote for c in result.citations}
    assert quotes == {1: "Attachments over 25 MB are refused by the outgoing mail gateway.",
                      2: "VPN error NWL-VPN-809 means that the device certificate has expired."}
    assert embedder.calls == 1
