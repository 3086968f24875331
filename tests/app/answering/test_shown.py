"""The shown answer: documented sentences first, the model's only where supported."""

from app.answering.evidence import gather
from app.answering.grounding import CheckedSentence
from app.answering.shown import ShownAnswer, compose
from app.knowledge.search import Hit
from models.fakes import FakeEmbedder

VPN = Hit(chunk_id="c1", score=1.0, collection="kb", document="vpn.md", title="VPN",
          heading="VPN errors", page=None, dense_score=0.9, lexical_score=1.0,
          text="NWL-VPN-809 means the device certificate expired. Renew it in the portal. "
               "Reconnect afterwards and the tunnel comes back within a minute.")
QUESTION = "What does VPN error NWL-VPN-809 mean?"


def _compose(*generated: CheckedSentence) -> ShownAnswer:
    evidence = gather(QUESTION, [VPN], lambda _setting: FakeEmbedder())
    return compose(evidence, list(generated))


def test_the_documented_sentence_leads_and_unsupported_ones_are_held_back() -> None:
    shown = _compose(
        CheckedSentence("NWL-VPN-901 means the server is down", [1], supported=False),
        CheckedSentence("Reconnect afterwards and the tunnel comes back within a minute",
                        [1], supported=True))
    # the best sentence is short, so the line after it comes along
    assert shown.text.startswith("NWL-VPN-809 means the device certificate expired. [1] "
                                 "Renew it in the portal. [1]")
    assert "NWL-VPN-901" not in shown.text
    assert "tunnel comes back" in shown.text
    quoted, _next_line, hidden, kept = shown.sentences
    assert (quoted.source, quoted.supported, quoted.shown) == ("quoted", True, True)
    assert (hidden.shown, hidden.why_hidden) == (False, "not supported by what it cites")
    assert kept.shown and kept.source == "generated"
    assert shown.cited == {1}


def test_the_question_said_back_or_the_lead_repeated_is_not_shown() -> None:
    shown = _compose(
        CheckedSentence("VPN error NWL-VPN-809 mean", [1], supported=True),
        CheckedSentence("NWL-VPN-809 means the device certificate expired", [1],
                        supported=True))
    assert [s.why_hidden for s in shown.sentences if s.source == "generated"] == [
        "says the question back", "repeats the documented sentence"]
    assert shown.text == ("NWL-VPN-809 means the device certificate expired. [1] "
                          "Renew it in the portal. [1]")


def test_a_shown_answer_stays_short() -> None:
    long = CheckedSentence(" ".join(["tunnel"] * 95), [1], supported=True)
    shown = _compose(long)
    assert shown.sentences[-1].why_hidden == "the answer is long enough"
