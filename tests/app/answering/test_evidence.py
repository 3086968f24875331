"""Evidence selection: the sentences that bear on the question, under a word budget."""

from app.answering.evidence import gather, sentences_of
from app.knowledge.search import Hit
from models.fakes import FakeEmbedder


def _hit(text: str, n: int, heading: str = "") -> Hit:
    return Hit(chunk_id=f"c{n}", score=1.0, text=text, collection="kb", document=f"d{n}.md",
               title="T", heading=heading, page=None, dense_score=0.9, lexical_score=1.0)


VPN = _hit("The VPN client shows error codes. NWL-VPN-809: certificate expired. Renew the "
           "device certificate in the self-service portal and reconnect. NWL-VPN-901 means "
           "the gateway is overloaded. Wait five minutes and try again.", 1, "VPN errors")
MAIL = _hit("Mailboxes hold 50 GB. Attachments over 25 MB are refused by the mail server. "
            "Use a OneDrive link for larger files.", 2, "E-mail limits")


def test_the_sentence_naming_the_code_leads_and_a_label_brings_its_next_line() -> None:
    evidence = gather("What does VPN error NWL-VPN-809 mean?", [VPN, MAIL],
                      lambda _setting: FakeEmbedder())
    lead = [s.text for s in evidence.lead()]
    assert lead[0] == "NWL-VPN-809: certificate expired."
    assert lead[1].startswith("Renew the device certificate")  # a short label is not enough
    assert all(s.chunk == 1 for s in evidence.lead())


def test_passages_keep_the_best_sentences_within_the_budget() -> None:
    evidence = gather("Are attachments over 25 MB refused by the mail server?", [VPN, MAIL],
                      lambda _setting: FakeEmbedder())
    passages = evidence.passages(12)
    assert sum(len(p.split()) for p in passages.values()) <= 12
    assert "25 MB" in passages[2]
    assert 1 not in passages  # nothing of the VPN chunk fits: it stays out of the prompt
    whole = evidence.passages(10_000)
    assert whole == {1: " ".join(evidence.sentences[0]), 2: " ".join(evidence.sentences[1])}


def test_a_long_lead_sentence_is_cut_and_marked() -> None:
    table = _hit("Attachments " + " ".join(f"row{i} 25 MB" for i in range(60)) + ".", 3)
    lead = gather("attachments 25 MB", [table], lambda _setting: FakeEmbedder()).lead()
    assert len(lead) == 1 and lead[0].text.endswith(" …")
    assert len(lead[0].text.split()) == 61


def test_a_sentence_cut_by_a_line_break_is_joined_again() -> None:
    text = ("When a user loses the phone that holds the Authenticator app, the Service Desk can "
            "issue a Temporary\nAccess Pass valid for 8 hours.\n- first item\n- second item")
    assert sentences_of(text) == [
        "When a user loses the phone that holds the Authenticator app, the Service Desk can "
        "issue a Temporary Access Pass valid for 8 hours.", "- first item", "- second item"]
